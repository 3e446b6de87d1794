"""The callbacks service in this process against the session's real Kafka and MongoDB-wire server.

Each test module gets its own running service (``kit``): its own database and consumer groups, and
fast timers (``SETTINGS`` in the module overrides them).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from icsuite_chassis.testing import bearer, header, read_topic, running_app, start_consumers_at_the_end, unique
from icsuite_contracts.cloudevents import from_kafka

from icsuite_callbacks.bootstrap import build_app
from icsuite_callbacks.settings import CallbacksSettings

FAST = {"identification_wait_s": 1.0, "scheduler_interval_s": 0.2, "outbox_sweep_interval_s": 1.0,
        "consumer_retry_backoff_s": 0.01, "rate_limit_per_caller": 100_000}


def settings_for(stack: Any, name: str, **overrides: Any) -> CallbacksSettings:
    """Settings with a database and consumer groups of their own."""
    tag = unique(name.replace("_", "-"))
    return CallbacksSettings(kafka_bootstrap_servers=stack.kafka_bootstrap, mongodb_uri=stack.mongodb_uri,
                             mongodb_database=tag.replace("-", "_"), consumer_group_prefix=f"{tag}.",
                             environment="test", **{**FAST, **overrides})


@dataclass
class Kit:
    stack: Any
    client: httpx.AsyncClient
    settings: CallbacksSettings
    key_ring: Any = None  # the service's own: its events' personal fields are sealed (crypto-shredding)

    channel = bearer("web-site", "channel")
    admin = bearer("admin-1", "admin")
    supervisor = bearer("sup-1", "supervisor")

    @staticmethod
    def agent(agent_id: str, *skills: str, languages: tuple[str, ...] = ()) -> dict[str, str]:
        """An agent's token; without skills it has none (no claim) and is offered only unrestricted items."""
        return bearer(agent_id, "agent", skills=list(skills) or None, languages=list(languages) or None)

    @staticmethod
    def number() -> str:
        """A callback number of its own (the abuse guard counts open requests per number)."""
        return f"+4930{uuid.uuid4().int % 10**9:09d}"

    async def request(self, **fields: Any) -> str:
        """POST a request (an account id unless given as None) and answer its callback id."""
        body = {"callback_number": self.number(), "account_id": unique("acc"), **fields}
        response = await self.client.post("/v1/callbacks", json={k: v for k, v in body.items() if v is not None},
                                          headers=self.channel)
        assert response.status_code == 202, response.text
        return str(response.json()["callback_id"])

    async def get(self, callback_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/v1/callbacks/{callback_id}", headers=self.supervisor)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def status_is(self, callback_id: str, status: str) -> dict[str, Any]:
        item = await self.get(callback_id)
        assert item["status"] == status, item
        return item

    async def act(self, callback_id: str, action: str, who: dict[str, str], body: Any = None) -> httpx.Response:
        return await self.client.post(f"/v1/callbacks/{callback_id}/{action}", json=body, headers=who)

    async def events(self, callback_ids: set[str], expect: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The events of ``ic.callbacks.v1`` about these callbacks in topic order, each ``ce_id`` once.

        The outbox relay publishes at least once: a repeat carries the same ``ce_id`` and is left out here,
        as every consumer of the suite leaves it out.
        """
        keys = {c.encode() for c in callback_ids}
        seen: set[str] = set()

        def first_of_its_id(record: Any) -> bool:
            event_id = header(record, "ce_id")
            if record.key not in keys or event_id in seen:
                return False
            seen.add(str(event_id))
            return True

        records = await read_topic(self.stack.kafka_bootstrap, "ic.callbacks.v1", first_of_its_id,
                                   expect=expect, timeout=timeout, key_ring=self.key_ring)
        out = []
        for record in records:
            envelope = from_kafka(record.headers, record.value)
            out.append({"type": envelope.type.removeprefix("ic.callback.").removesuffix(".v1"),
                        "id": envelope.id, **json.loads(record.value)})
        return out


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def kit(stack: Any, request: pytest.FixtureRequest) -> AsyncIterator[Kit]:
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    settings = settings_for(stack, name, **getattr(request.module, "SETTINGS", {}))
    app = build_app(settings)
    if getattr(request.module, "FROM_THE_END", False):  # the module counts only its own requests
        await start_consumers_at_the_end(app, stack.kafka_bootstrap)
    async with running_app(app) as client:
        yield Kit(stack, client, settings, app.state.runtime.key_ring)
