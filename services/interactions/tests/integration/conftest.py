"""The interactions service running in this process against the session's stack, one per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from icsuite_chassis.testing import bearer, running_app, start_consumers_at_the_end, unique

from icsuite_interactions.bootstrap import build_app
from icsuite_interactions.settings import InteractionsSettings

AGENT = bearer("a-17", "agent")


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient
    settings: InteractionsSettings
    bootstrap: str

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db

    async def get(self, interaction_id: str, headers: dict[str, str] = AGENT) -> httpx.Response:
        return await self.client.get(f"/v1/interactions/{interaction_id}", headers=headers)


def service_settings(stack: Any, **overrides: Any) -> InteractionsSettings:
    name = unique("ia").replace("-", "_")
    values: dict[str, Any] = dict(
        kafka_bootstrap_servers=stack.kafka_bootstrap, mongodb_uri=stack.mongodb_uri, mongodb_database=name,
        consumer_group_prefix=f"{name}.", self_service_grace_s=0.5, self_service_sweep_interval_s=0.2,
        outbox_sweep_interval_s=1.0, consumer_retry_backoff_s=0.01,
        attachment_max_bytes=64 * 1024, max_request_bytes=256 * 1024, environment="test",
    )
    values.update(overrides)
    return InteractionsSettings(**values)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def service(stack: Any, request: pytest.FixtureRequest) -> AsyncIterator[RunningService]:
    """A module that sets ``FROM_THE_END = True`` counts only its own records: its consumers start at the end
    of the shared topics instead of replaying every earlier test's contacts."""
    settings = service_settings(stack)
    app = build_app(settings)
    if getattr(request.module, "FROM_THE_END", False):
        await start_consumers_at_the_end(app, stack.kafka_bootstrap)
    async with running_app(app) as client:
        yield RunningService(app, client, settings, stack.kafka_bootstrap)
