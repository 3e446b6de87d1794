"""What ``up`` started in the background, recorded in ``.stack/stack.json`` for ``down`` and ``status``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .processes import pid_is_alive, port_is_open, stop_pid
from .stack import Stack

STATE_FILE = "stack.json"


@dataclass(frozen=True)
class Component:
    """One background server: its pid, its port and a word its command line must contain."""

    name: str
    pid: int
    port: int
    marker: str

    def is_ours(self) -> bool:
        """The pid is alive and still runs our server (a pid can be reused after a reboot)."""
        if not pid_is_alive(self.pid):
            return False
        try:
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return False
        return self.marker in cmdline

    def describe(self) -> str:
        if not self.is_ours():
            return f"{self.name}: not running (pid {self.pid} is gone)"
        answering = "answering" if port_is_open(self.port) else "NOT answering"
        return f"{self.name}: pid {self.pid}, port {self.port} {answering}"


@dataclass(frozen=True)
class RecordedStack:
    kafka_bootstrap: str
    mongodb_uri: str
    components: tuple[Component, ...]

    def is_running(self) -> bool:
        return all(c.is_ours() and port_is_open(c.port) for c in self.components)

    def as_stack(self) -> Stack:
        """A :class:`Stack` pointing at the background servers; stopping it leaves them running."""
        return Stack(self.kafka_bootstrap, self.mongodb_uri, origin="up")


def write_state(directory: Path, stack: Stack) -> None:
    assert stack.kafka is not None and stack.mongo is not None
    kafka_pid, mongo_pid = stack.kafka.process.pid, stack.mongo.process.pid
    state = {
        "kafka_bootstrap": stack.kafka_bootstrap,
        "mongodb_uri": stack.mongodb_uri,
        "components": [
            {"name": "kafka", "pid": kafka_pid, "port": stack.kafka.port,
             "marker": str(stack.kafka.properties_path)},
            {"name": "mongo", "pid": mongo_pid, "port": stack.mongo.port,
             "marker": f"Launcher.java --port {stack.mongo.port}"},
        ],
    }  # fmt: skip
    (directory / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def read_state(directory: Path) -> RecordedStack | None:
    path = directory / STATE_FILE
    if not path.is_file():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    return RecordedStack(
        kafka_bootstrap=state["kafka_bootstrap"],
        mongodb_uri=state["mongodb_uri"],
        components=tuple(Component(**component) for component in state["components"]),
    )


def stop_recorded(directory: Path, timeout: float = 30.0) -> list[str]:
    """Stop what ``up`` started (SIGTERM, then SIGKILL); return a line per component."""
    recorded = read_state(directory)
    if recorded is None:
        return []
    lines = []
    for component in recorded.components:
        if component.is_ours():
            stop_pid(component.pid, timeout)
            lines.append(f"{component.name}: stopped (pid {component.pid})")
        else:
            lines.append(f"{component.name}: was not running")
    (directory / STATE_FILE).unlink()
    return lines
