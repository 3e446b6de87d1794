"""Session fixtures for tests that need real Kafka and MongoDB.

Load it from the root ``conftest.py`` with ``pytest_plugins = ["icsuite_devstack.pytest_plugin"]``.

``stack`` uses, in this order: the servers named by ``KAFKA_BOOTSTRAP_SERVERS`` and ``MONGODB_URI``
(both must be set); testcontainers when a Docker engine answers; else its own local stack on free
ports in a temporary directory, MongoDB in memory. A stack the session started is always stopped at
the end of the session, also when tests fail or the run is interrupted.
"""

from __future__ import annotations

import atexit
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient

from .containers import docker_available, start_container_stack
from .stack import Stack, stack_from_env, start_stack


def _visible_output(config: pytest.Config) -> AbstractContextManager[Any]:
    """Let progress lines (a first download can take a minute) through pytest's capturing."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        return nullcontext()
    return capture.global_and_fixture_disabled()  # type: ignore[no-any-return]


def _open_stack(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Stack:
    from_env = stack_from_env()
    if from_env is not None:
        return from_env
    if docker_available():
        return start_container_stack()
    workdir = tmp_path_factory.mktemp("devstack")
    with _visible_output(config):
        return start_stack(workdir, mongo_memory=True, out=_progress)


def _progress(line: str) -> None:
    print(f"[devstack] {line}", flush=True)


@pytest.fixture(scope="session")
def stack(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Kafka and MongoDB for the whole session, with every topic of the contracts registry."""
    current = _open_stack(pytestconfig, tmp_path_factory)
    stop: Callable[[], None] = current.stop
    atexit.register(stop)  # also if the session ends without running its finalizers
    try:
        current.create_topics()
        yield current
    finally:
        current.stop()
        atexit.unregister(stop)


@pytest.fixture(scope="session")
def kafka_bootstrap(stack: Stack) -> str:
    return stack.kafka_bootstrap


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def mongo_client(stack: Stack) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    """One PyMongo async client on the session's MongoDB; tests use their own databases."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_uri)
    try:
        yield client
    finally:
        await client.close()
