"""The MongoDB-wire server: mongo-java-server started by the single-file ``Launcher.java``."""

from __future__ import annotations

import os
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from . import config
from .processes import ProcessError, ServiceProcess, port_is_open
from .provision import Distribution

READY_LINE = "mongo-wire server listening on"


def oplog_enabled() -> bool:
    """The oplog (needed by change streams) is on unless ``IC_MONGO_OPLOG=0``."""
    return os.environ.get("IC_MONGO_OPLOG", "1").lower() not in {"0", "false", "no", "off"}


class MongoWireServer:
    """mongo-java-server on 127.0.0.1, keeping its data in an H2 file in ``workdir`` or in memory."""

    def __init__(
        self,
        distribution: Distribution,
        workdir: Path,
        port: int,
        *,
        memory: bool = False,
        detached: bool = False,
    ) -> None:
        self.distribution = distribution
        self.workdir = workdir
        self.port = port
        self.memory = memory
        storage = ["--memory"] if memory else ["--file", str(self.data_file)]
        oplog = [] if oplog_enabled() else ["--no-oplog"]
        argv = [
            "java",
            f"-Xmx{config.MONGO_HEAP}",
            "-XX:+UseG1GC",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp",
            distribution.classpath,
            str(config.launcher_source()),
            "--port",
            str(port),
            *storage,
            *oplog,
        ]
        self.process = ServiceProcess(
            "mongo", argv, log_path=workdir / "mongo.log", detached=detached
        )

    @property
    def data_file(self) -> Path:
        return self.workdir / "data.mv"

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, wait: bool = True, timeout: float = 60.0) -> MongoWireServer:
        if port_is_open(self.port):
            raise ProcessError(f"mongo: port {self.port} on 127.0.0.1 is already in use")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process.start()
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        self.process.wait_for_output(READY_LINE, timeout)
        self.process.wait_until(lambda: ping(self.uri), 15, "answering ping")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM lets the launcher close the store (H2 commits about once a second otherwise)."""
        self.process.terminate(timeout)

    def kill(self) -> None:
        self.process.kill()

    @property
    def is_running(self) -> bool:
        return self.process.is_running


def ping(uri: str, timeout_ms: int = 1000) -> bool:
    client: MongoClient[dict[str, object]] = MongoClient(
        uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()
