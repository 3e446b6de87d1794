"""Kafka plus the MongoDB-wire server, started together and stopped together.

Three ways to get a :class:`Stack`:

- :func:`start_stack` starts the local stack from the cached jars (this module's main job);
- :func:`stack_from_env` wraps ``KAFKA_BOOTSTRAP_SERVERS`` and ``MONGODB_URI`` and starts nothing;
- :func:`icsuite_devstack.containers.start_container_stack` uses testcontainers where Docker exists.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Self

from .kafka import KafkaBroker
from .mongo import MongoWireServer
from .processes import ProcessError, free_port
from .provision import Printer, ensure_all
from .topics import TopicSpec, create_topics_blocking

Origin = Literal["local", "env", "containers", "up"]


class StackError(RuntimeError):
    """The stack did not start, or an operation needs a stack this process owns."""


@dataclass
class Stack:
    """Where Kafka and MongoDB are, and (for a local stack) the processes behind them."""

    kafka_bootstrap: str
    mongodb_uri: str
    origin: Origin = "local"
    kafka: KafkaBroker | None = None
    mongo: MongoWireServer | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The variables every service reads to find the stack."""
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "MONGODB_URI": self.mongodb_uri}

    def create_topics(self, specs: Sequence[TopicSpec] | None = None) -> list[str]:
        """Create the missing topics (default: every topic of the contracts registry)."""
        return create_topics_blocking(self.kafka_bootstrap, specs)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop both servers (SIGTERM, then SIGKILL after ``timeout``); nothing for a wrapped stack."""
        stoppers = [server.stop for server in (self.kafka, self.mongo) if server is not None]
        threads = [threading.Thread(target=stop, args=(timeout,)) for stop in stoppers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        while self.closers:
            self.closers.pop()()

    def _broker(self) -> KafkaBroker:
        if self.kafka is None:
            raise StackError(f"this stack's Kafka is not run by this process (origin: {self.origin})")
        return self.kafka

    def restart_kafka(self, timeout: float = 90.0) -> None:
        """Stop the broker gracefully and start it on the same port and data, then wait until ready."""
        self._broker().restart(timeout)

    def kill_kafka(self) -> None:
        """SIGKILL the broker, as a crash would."""
        self._broker().kill()

    def start_kafka(self, timeout: float = 90.0) -> None:
        """Start the broker again after :meth:`kill_kafka`, on the same port and data."""
        self._broker().start(timeout=timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def stack_from_env() -> Stack | None:
    """A stack wrapping ``KAFKA_BOOTSTRAP_SERVERS`` and ``MONGODB_URI`` when both are set."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    uri = os.environ.get("MONGODB_URI", "").strip()
    if bootstrap and uri:
        return Stack(kafka_bootstrap=bootstrap, mongodb_uri=uri, origin="env")
    return None


def start_stack(
    workdir: Path,
    *,
    kafka_port: int | None = None,
    mongo_port: int | None = None,
    mongo_memory: bool = False,
    detached: bool = False,
    timeout: float = 90.0,
    out: Printer = print,
) -> Stack:
    """Start Kafka (KRaft, one node) and the MongoDB-wire server on 127.0.0.1; wait until both serve.

    Ports default to free ones. Data and logs live under ``workdir/kafka`` and ``workdir/mongo``;
    ``mongo_memory`` keeps MongoDB data in memory instead of an H2 file. ``detached`` lets both
    outlive this process (``up``). On failure both are stopped and the error shows the log's tail.
    """
    kafka_distribution, mongo_distribution = ensure_all(out)
    workdir = workdir.resolve()
    kafka_port = kafka_port or free_port()
    kafka = KafkaBroker(kafka_distribution, workdir / "kafka", kafka_port, detached=detached)
    mongo_port = mongo_port or free_port(avoid={kafka_port, kafka.controller_port})
    mongo = MongoWireServer(
        mongo_distribution, workdir / "mongo", mongo_port, memory=mongo_memory, detached=detached
    )
    started: list[KafkaBroker | MongoWireServer] = []
    try:
        for server in (kafka, mongo):
            server.start(wait=False)
            started.append(server)
        kafka.wait_ready(timeout)
        mongo.wait_ready(timeout)
    except BaseException as exc:
        for server in started:
            server.stop(timeout=10)
        if isinstance(exc, ProcessError):
            raise StackError(f"the local stack did not start: {exc}") from exc
        raise
    return Stack(kafka.bootstrap, mongo.uri, origin="local", kafka=kafka, mongo=mongo)

