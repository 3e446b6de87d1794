"""A single-node Apache Kafka broker in KRaft mode, run from the cached Maven Central jars."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

from . import config
from .processes import ProcessError, ServiceProcess, free_port, port_is_open
from .provision import Distribution

READY_LINE = "Kafka Server started"

LOG4J2_YAML = """\
Configuration:
  Appenders:
    Console:
      name: STDOUT
      target: SYSTEM_OUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
      - name: kafka.Kafka
        level: INFO
      - name: org.apache.kafka.controller.QuorumController
        level: WARN
"""


def new_cluster_id() -> str:
    """A KRaft cluster id: base64url of 16 random bytes, without padding.

    One that starts with "-" would be read by the storage tool's argument parser as an option, so such
    a draw is drawn again.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):
            return cluster_id


def server_properties(port: int, controller_port: int, log_dir: Path) -> str:
    """Settings for one node that is both broker and controller, reachable on 127.0.0.1 only."""
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "auto.create.topics.enable": "false",
        "num.partitions": "1",
        "group.initial.rebalance.delay.ms": "0",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # After a crash the restarted node waits for its old registration to expire; keep that short.
        "broker.session.timeout.ms": "3000",
        "broker.heartbeat.interval.ms": "1000",
        "num.network.threads": "2",
        "num.io.threads": "2",
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


class KafkaBroker:
    """One KRaft node whose configuration, data and log live in ``workdir``.

    The controller port is chosen once and kept in ``server.properties``: the formatted metadata
    log remembers the controller's address, so a restart must use the same one.
    """

    def __init__(
        self, distribution: Distribution, workdir: Path, port: int, *, detached: bool = False
    ) -> None:
        self.distribution = distribution
        self.workdir = workdir
        self.port = port
        self.controller_port = self._previous_controller_port() or free_port(avoid={port})
        self.detached = detached
        self.process = ServiceProcess(
            "kafka",
            self._java_command("kafka.Kafka", str(self.properties_path)),
            log_path=workdir / "kafka.log",
            detached=detached,
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def properties_path(self) -> Path:
        return self.workdir / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    def _previous_controller_port(self) -> int | None:
        if not self.properties_path.is_file():
            return None
        text = self.properties_path.read_text(encoding="utf-8")
        match = re.search(r"^controller\.quorum\.bootstrap\.servers=[^:]+:(\d+)$", text, re.MULTILINE)
        return int(match.group(1)) if match else None

    def _java_command(self, main_class: str, *args: str) -> list[str]:
        return [
            "java",
            "-Xms256m",
            f"-Xmx{config.KAFKA_HEAP}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={self.workdir / 'log4j2.yaml'}",
            "-cp",
            self.distribution.classpath,
            main_class,
            *args,
        ]

    def _prepare(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.properties_path.write_text(
            server_properties(self.port, self.controller_port, self.data_dir), encoding="utf-8"
        )
        (self.workdir / "log4j2.yaml").write_text(LOG4J2_YAML, encoding="utf-8")
        if (self.data_dir / "meta.properties").is_file():
            return
        format_args = [
            "format", "-t", new_cluster_id(), "-c", str(self.properties_path),
            "--standalone", "--ignore-formatted",
        ]  # fmt: skip
        formatter = ServiceProcess(
            "kafka-storage-format",
            self._java_command("kafka.tools.StorageTool", *format_args),
            log_path=self.workdir / "format.log",
        ).start()
        formatter.wait_until(lambda: not formatter.is_running, 60, "finished formatting")
        if formatter.returncode != 0:
            raise formatter.failure(f"storage format exited with code {formatter.returncode}")

    def start(self, wait: bool = True, timeout: float = 90.0) -> KafkaBroker:
        """Format the data directory on first use, start the broker, and wait until it serves."""
        if port_is_open(self.port):
            raise ProcessError(f"kafka: port {self.port} on 127.0.0.1 is already in use")
        self._prepare()
        self.process.start()
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 90.0) -> None:
        self.process.wait_for_output(READY_LINE, timeout)
        self.process.wait_until(lambda: port_is_open(self.port), 10, f"listening on {self.port}")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (a controlled shutdown), then SIGKILL after ``timeout`` seconds."""
        self.process.terminate(timeout)

    def kill(self) -> None:
        self.process.kill()

    def restart(self, timeout: float = 90.0) -> None:
        self.stop()
        self.start(timeout=timeout)

    @property
    def is_running(self) -> bool:
        return self.process.is_running

