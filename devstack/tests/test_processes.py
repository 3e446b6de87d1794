"""ServiceProcess on trivial Python programs: readiness, crash, restart and clear failures."""

from __future__ import annotations

import signal
import socket
import sys
import textwrap
from pathlib import Path

import pytest
from icsuite_devstack.processes import ProcessError, ServiceProcess, free_port

pytestmark = pytest.mark.integration

READY_SERVER = textwrap.dedent(
    """
    import http.server, os, sys

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/readyz" else 404)
            self.end_headers()
            self.wfile.write(os.environ.get("GREETING", "").encode())

        def log_message(self, *args):
            pass

    print("serving", os.getpid(), flush=True)
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """
)


@pytest.fixture
def server_script(tmp_path: Path) -> Path:
    script = tmp_path / "ready_server.py"
    script.write_text(READY_SERVER, encoding="utf-8")
    return script


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert free_port(avoid={port}) != port


def test_kill_restart_and_terminate(server_script: Path, tmp_path: Path) -> None:
    port = free_port()
    process = ServiceProcess(
        "probe", [sys.executable, str(server_script), str(port)],
        log_path=tmp_path / "probe.log", env={"GREETING": "hello"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        process.start().wait_ready(url, timeout=10)
        first_pid = process.pid
        assert process.is_running

        assert process.kill() == -signal.SIGKILL
        assert not process.is_running

        process.restart().wait_ready(url, timeout=10)
        assert process.is_running and process.pid != first_pid
        assert f"serving {process.pid}" in process.log_tail()
    finally:
        exit_code = process.terminate(timeout=5)
    assert exit_code == -signal.SIGTERM
    assert (tmp_path / "probe.log").read_text().count("serving") == 2


def test_python_module_runs_with_this_interpreter(tmp_path: Path) -> None:
    port = free_port()
    process = ServiceProcess.python_module(
        "http", "http.server", str(port), "--bind", "127.0.0.1", log_path=tmp_path / "http.log"
    )
    try:
        process.start().wait_ready(f"http://127.0.0.1:{port}/", timeout=10)
    finally:
        process.terminate(timeout=5)
    assert process.argv[:3] == [sys.executable, "-m", "http.server"]


def test_a_process_that_exits_fails_with_its_log_tail(tmp_path: Path) -> None:
    process = ServiceProcess(
        "broken", [sys.executable, "-c", "print('cannot connect to the database'); raise SystemExit(3)"],
        log_path=tmp_path / "broken.log",
    )  # fmt: skip

    with pytest.raises(ProcessError) as caught:
        process.start().wait_ready(f"http://127.0.0.1:{free_port()}/readyz", timeout=10)

    message = str(caught.value)
    assert "broken: exited with code 3" in message
    assert "cannot connect to the database" in message


def test_a_process_that_never_gets_ready_times_out(tmp_path: Path) -> None:
    process = ServiceProcess(
        "sleeper", [sys.executable, "-c", "import time; print('waiting'); time.sleep(60)"],
        log_path=tmp_path / "sleeper.log",
    )  # fmt: skip
    try:
        with pytest.raises(ProcessError, match="sleeper: not ready .* after 1 s"):
            process.start().wait_ready(f"http://127.0.0.1:{free_port()}/readyz", timeout=1)
    finally:
        process.kill()


def test_echo_prefixes_each_line_with_the_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    process = ServiceProcess(
        "talker", [sys.executable, "-c", "print('line one'); print('line two')"],
        log_path=tmp_path / "talker.log", echo=True,
    ).start()  # fmt: skip
    process.wait_until(lambda: not process.is_running, 10, "finished")
    process.terminate()

    printed = capsys.readouterr().out.splitlines()
    assert [line.split("|", 1)[0].strip() for line in printed] == ["talker", "talker"]
    assert [line.split("| ", 1)[1] for line in printed] == ["line one", "line two"]
    assert (tmp_path / "talker.log").read_text() == "line one\nline two\n"
