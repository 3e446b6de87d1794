"""The foreground runner, with stand-in services, against the session's stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from icsuite_devstack.processes import free_port, pid_is_alive
from icsuite_devstack.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

STAND_IN_SERVICE = textwrap.dedent(
    """
    import http.server, os, pathlib, sys

    service = os.environ["STANDIN_SERVICE"]
    assert os.environ["KAFKA_BOOTSTRAP_SERVERS"] and os.environ["MONGODB_URI"]
    assert os.environ["IC_ENV"] == "development" and len(os.environ["IC_JWT_SECRET"]) >= 32
    port = int(os.environ[f"IC_{service.upper()}_PORT"])
    pathlib.Path(os.environ["STANDIN_PIDS"], service).write_text(str(os.getpid()))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    print(f"{service} listening on {port}", flush=True)
    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """
)

RUNNER = (
    "import sys, json, pathlib\n"
    "from icsuite_devstack.suite import run\n"
    "services = json.loads(sys.argv[1])\n"
    "raise SystemExit(run(services, sys.argv[2], pathlib.Path(sys.argv[3])))\n"
)


def start_runner(
    stack: Stack, tmp_path: Path, services: dict[str, int], template: str
) -> tuple[subprocess.Popen[bytes], Path]:
    import json

    modules = tmp_path / "modules"
    modules.mkdir(exist_ok=True)
    for service in services:
        (modules / f"standin_{service}.py").write_text(
            f"import os\nos.environ['STANDIN_SERVICE'] = {service!r}\n" + STAND_IN_SERVICE
        )
    (tmp_path / "pids").mkdir(exist_ok=True)
    env = {
        **os.environ, **stack.env(), "PYTHONPATH": str(modules), "STANDIN_PIDS": str(tmp_path / "pids"),
    }  # fmt: skip
    output = tmp_path / "runner.out"
    with output.open("wb") as sink:
        runner = subprocess.Popen(
            [sys.executable, "-c", RUNNER, json.dumps(services), template, str(tmp_path / "stack")],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return runner, output


def wait_for_text(path: Path, text: str, runner: subprocess.Popen[bytes], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text(errors="replace")
        if text in content or runner.poll() is not None:
            return content
        time.sleep(0.1)
    return path.read_text(errors="replace")


def test_suite_runs_services_until_sigterm_then_stops_them(stack: Stack, tmp_path: Path) -> None:
    services = {"alpha": free_port(), "beta": free_port()}
    runner, output = start_runner(stack, tmp_path, services, "standin_{service}")
    try:
        content = wait_for_text(output, "Press Ctrl-C to stop.", runner)
        assert "The suite is up" in content, content
        assert "1 of 2 ready" in content and "2 of 2 ready" in content, content
        for service, port in services.items():
            assert f"http://127.0.0.1:{port}/docs" in content
            assert f"{service} | {service} listening on {port}" in content
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=30) == 0
    finally:
        if runner.poll() is None:
            runner.kill()
    pids = [int(p.read_text()) for p in (tmp_path / "pids").iterdir()]
    assert len(pids) == 2 and not any(pid_is_alive(pid) for pid in pids)
    assert "Stopped." in output.read_text()


def test_suite_names_each_service_that_cannot_start(stack: Stack, tmp_path: Path) -> None:
    services = {"alpha": free_port(), "beta": free_port()}
    runner, output = start_runner(stack, tmp_path, services, "missing_{service}.main")

    assert runner.wait(timeout=60) == 1
    content = output.read_text()
    for service in services:
        assert f"!! {service} could not start (missing_{service}.main)" in content
        assert f"No module named 'missing_{service}'" in content
    assert "2 of 2 services could not start" in content
