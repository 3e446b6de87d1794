"""Versions, the download cache and the repository's own paths.

Every value here can be overridden by the environment, so that a developer can try another Kafka
release or move the cache without touching code:

- ``IC_CACHE_DIR``: where downloaded jars are kept (default ``~/.cache/icsuite``)
- ``IC_KAFKA_VERSION``: the ``org.apache.kafka:kafka_2.13`` release (default :data:`KAFKA_VERSION`)
- ``IC_MONGO_JAVA_SERVER_VERSION``: the ``de.bwaldvogel:mongo-java-server`` release
"""

from __future__ import annotations

import os
from pathlib import Path

KAFKA_VERSION = "4.4.0"
"""Newest Apache Kafka 4.x on Maven Central at the time of writing; built for Java 17."""

LOG4J_VERSION = "2.25.3"
"""log4j2 release of the SLF4J binding; the same release Kafka 4.4.0 itself depends on."""

SLF4J_API_VERSION = "1.7.36"
"""The SLF4J API that ``log4j-slf4j-impl`` binds to (Kafka logs through SLF4J 1.x)."""

MONGO_JAVA_SERVER_VERSION = "1.47.0"

SLF4J_SIMPLE_VERSION = "2.0.17"
"""A tiny SLF4J 2 provider so that mongo-java-server's warnings reach its log file."""

KAFKA_HEAP = "512m"
MONGO_HEAP = "1g"

CONTRACT_KAFKA_PORT = 9092
CONTRACT_MONGO_PORT = 27017

SERVICE_PORTS: dict[str, int] = {
    "identity": 8001,
    "interactions": 8002,
    "callbacks": 8003,
    "followups": 8004,
    "alerts": 8005,
}
"""The five services and their local ports, as CONTRACT.md lists them."""

DESKTOP_PORT = 8000
"""The agent desktop's local port (``make up`` prints http://127.0.0.1:8000/ first)."""

DEVELOPMENT_JWT_SECRET = "icsuite-development-secret-change-me-0123456789"
"""The same development-only default the chassis settings use; refused when IC_ENV=production."""


def cache_dir() -> Path:
    """The download cache, outside any work tree."""
    configured = os.environ.get("IC_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "icsuite"


def kafka_version() -> str:
    return os.environ.get("IC_KAFKA_VERSION", KAFKA_VERSION)


def mongo_java_server_version() -> str:
    return os.environ.get("IC_MONGO_JAVA_SERVER_VERSION", MONGO_JAVA_SERVER_VERSION)


def launcher_source() -> Path:
    """The single-file Java program that starts mongo-java-server."""
    return Path(__file__).parent / "launcher" / "Launcher.java"


def repo_root(start: Path | None = None) -> Path:
    """The workspace root: the nearest directory upwards whose pyproject declares the uv workspace."""
    candidates = [start or Path.cwd(), Path(__file__).resolve()]
    for origin in candidates:
        for directory in [origin, *origin.parents]:
            pyproject = directory / "pyproject.toml"
            if pyproject.is_file() and "[tool.uv.workspace]" in pyproject.read_text(encoding="utf-8"):
                return directory
    raise RuntimeError("cannot find the repository root (a pyproject.toml with [tool.uv.workspace])")


def stack_dir(root: Path | None = None) -> Path:
    """Where ``up`` and ``suite`` keep the stack's data and logs: ``.stack/`` under the repository root."""
    return (root or repo_root()) / ".stack"
