"""Fixtures of the MongoDB-wire conformance tests.

They run against the session's local stack, or against real MongoDB whenever ``MONGODB_URI`` is set
(``KAFKA_BOOTSTRAP_SERVERS`` is not needed for them).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase


@pytest.fixture(scope="session")
def conformance_uri(request: pytest.FixtureRequest) -> str:
    return os.environ.get("MONGODB_URI") or request.getfixturevalue("stack").mongodb_uri


@pytest.fixture(scope="session")
def local_server() -> bool:
    """True when the tests run against the local MongoDB-wire server, not a real MongoDB."""
    return not os.environ.get("MONGODB_URI")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def conformance_client(conformance_uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    # The options the services' client uses (icsuite_chassis.mongo.create_mongo_client).
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        conformance_uri, tz_aware=True, uuidRepresentation="standard", serverSelectionTimeoutMS=5000
    )
    try:
        yield client
    finally:
        await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def db(conformance_client: AsyncMongoClient[dict[str, Any]]) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """A database of its own for each test, dropped afterwards."""
    name = f"conformance_{uuid.uuid4().hex[:12]}"
    try:
        yield conformance_client[name]
    finally:
        await conformance_client.drop_database(name)
