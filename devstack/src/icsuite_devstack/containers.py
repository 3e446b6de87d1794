"""Where a Docker engine answers, testcontainers may run Kafka and MongoDB instead.

Kept small on purpose: the machines this suite is built on have no Docker engine, so this path is
not exercised by the devstack tests.
"""

from __future__ import annotations

import shutil
import subprocess

from .stack import Stack

KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
MONGO_IMAGE = "mongo:7.0"


def docker_available(timeout: float = 3.0) -> bool:
    """True when ``docker info`` answers within ``timeout`` seconds."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        result = subprocess.run([docker, "info"], capture_output=True, timeout=timeout, check=False)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return result.returncode == 0


def start_container_stack() -> Stack:  # pragma: no cover - needs a Docker engine
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.mongodb import MongoDbContainer

    kafka = KafkaContainer(KAFKA_IMAGE).with_kraft()
    kafka.start()
    try:
        mongo = MongoDbContainer(MONGO_IMAGE)
        mongo.start()
    except BaseException:
        kafka.stop()
        raise
    return Stack(
        kafka_bootstrap=kafka.get_bootstrap_server(),
        mongodb_uri=mongo.get_connection_url(),
        origin="containers",
        closers=[kafka.stop, mongo.stop],
    )
