"""Child processes with a log file, readiness checks and hard or graceful stops.

:class:`ServiceProcess` runs the JVMs of the local stack, the services under ``suite`` and the
processes that end-to-end and crash tests kill and restart. Each child gets its own session, so a
Ctrl-C in the terminal reaches only the parent, which then stops its children in order.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1


class ProcessError(RuntimeError):
    """A child exited or did not become ready in time; the message ends with its log tail."""


def free_port(avoid: Collection[int] = ()) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (and not one of ``avoid``)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def port_is_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_pid(pid: int, timeout: float = 20.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL it after ``timeout`` seconds."""
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_is_alive(pid) or _is_zombie(pid):
            return
        time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when the thread that started it ends."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def hook() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return hook


class ServiceProcess:
    """One child process: started with an env, logging to a file, stoppable and restartable.

    ``detached=True`` lets the child outlive this Python process (``up``); otherwise Linux sends it
    SIGTERM when the thread that started it ends, so a killed test run leaves nothing behind.
    ``echo=True`` also copies every output line to our stdout, prefixed with the name.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        echo: bool = False,
        detached: bool = False,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.echo = echo
        self.detached = detached
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._echo_thread: threading.Thread | None = None

    @classmethod
    def python_module(
        cls, name: str, module: str, *args: str, **kwargs: object
    ) -> ServiceProcess:
        """``python -m <module> <args>`` with this interpreter."""
        return cls(name, [sys.executable, "-m", module, *args], **kwargs)  # type: ignore[arg-type]

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._process.poll() if self._process else None

    def start(self) -> ServiceProcess:
        if self.is_running:
            raise ProcessError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self._log_offset = log.tell()
        stdout: int | IO[bytes] = subprocess.PIPE if self.echo else log
        try:
            self._process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # Only a prctl() call runs between fork and exec; no locks are taken there.
                preexec_fn=None if self.detached else _die_with_parent(),  # noqa: PLW1509
            )
        except OSError as exc:
            log.close()
            raise ProcessError(f"{self.name}: cannot start {self.argv[0]}: {exc}") from exc
        if self.echo:
            self._echo_thread = threading.Thread(
                target=self._copy_output, args=(self._process.stdout, log), daemon=True
            )
            self._echo_thread.start()
        else:
            log.close()
        return self

    def _copy_output(self, pipe: IO[bytes], log: IO[bytes]) -> None:
        with log:
            for line in iter(pipe.readline, b""):
                log.write(line)
                log.flush()
                text = line.decode("utf-8", errors="replace").rstrip("\n")
                print(f"{self.name:>12} | {text}", flush=True)

    def output_since_start(self) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.output_since_start().splitlines()[-lines:])

    def failure(self, what: str) -> ProcessError:
        """An error naming the process and ending with the last lines of its log."""
        tail = self.log_tail() or "(no output)"
        return ProcessError(f"{self.name}: {what}\n--- last lines of {self.log_path} ---\n{tail}")

    def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``check`` until it is true; fail early if the process exits."""
        deadline = time.monotonic() + timeout
        while True:
            if check():
                return
            if not self.is_running:
                raise self.failure(f"exited with code {self.returncode} before {what}")
            if time.monotonic() > deadline:
                raise self.failure(f"not {what} after {timeout:.0f} s")
            time.sleep(0.1)

    def wait_for_output(self, text: str, timeout: float = 60.0) -> None:
        self.wait_until(lambda: text in self.output_since_start(), timeout, f"logging {text!r}")

    def wait_ready(self, url: str, timeout: float = 30.0) -> None:
        """Wait until ``url`` answers 200 (for example a service's ``/readyz``)."""
        self.wait_until(lambda: http_ok(url), timeout, f"ready ({url} answering 200)")

    def terminate(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; returns the exit code."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            _signal_group(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._join_echo()
        return self._process.returncode

    def kill(self) -> int | None:
        """SIGKILL at once, as a crash would; returns the exit code."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            _signal_group(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._join_echo()
        return self._process.returncode

    def restart(self, timeout: float = 15.0) -> ServiceProcess:
        self.terminate(timeout)
        return self.start()

    def _join_echo(self) -> None:
        if self._echo_thread is not None:
            self._echo_thread.join(timeout=5)
            self._echo_thread = None


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False
