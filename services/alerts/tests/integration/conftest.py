"""The alerts app running in-process against the session's stack, one per test module, and event factories."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest_asyncio
from icsuite_chassis.testing import bearer, commit_group_at_end, eventually, publish_envelopes, running_app, unique
from icsuite_contracts.cloudevents import Envelope, new_envelope
from icsuite_contracts.identity_v1 import ContactIdentified
from icsuite_contracts.masterdata_v1 import BusinessAgreementUpserted, OpenBill

from icsuite_alerts.bootstrap import build_app
from icsuite_alerts.consumers import CONSUMER
from icsuite_alerts.domain.rules import CONSUMED_TOPICS
from icsuite_alerts.settings import AlertsSettings

ADMIN = bearer("admin-1", "admin")
SUPERVISOR = bearer("sup-1", "supervisor")


@dataclass
class Alerts:
    client: httpx.AsyncClient
    app: Any
    bootstrap: str

    async def start_at_end(self, settings: AlertsSettings) -> None:
        await start_at_end(self.bootstrap, settings)

    def __post_init__(self) -> None:
        self.agreement = agreement
        self.identified = identified
        self.now = now
        self.parse_sse = parse_sse

    async def read_stream(self, agent: str, **options: Any) -> list[dict[str, Any]]:
        return await read_stream(self.client, agent, **options)

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db

    async def publish(self, *envelopes: Envelope) -> None:
        await publish_envelopes(self.bootstrap, *envelopes)

    async def processed(self, *envelopes: Envelope) -> None:
        """Wait until every envelope was consumed and its alerts (if any) were written."""
        ids = [e.id for e in envelopes]

        async def check() -> bool:
            return await self.db.event_log.count_documents({"_id": {"$in": ids}}) == len(ids)

        await eventually(check)

    async def facts(self, account_id: str, **expected: Any) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            response = await self.client.get(f"/v1/accounts/{account_id}/facts", headers=SUPERVISOR)
            if response.status_code != 200:
                return None
            facts = response.json()["facts"]
            return facts if all(facts.get(k) == v for k, v in expected.items()) else None

        return await eventually(check)

    async def alerts_for(self, contact_id: str, *, expect: int | None = None) -> list[dict[str, Any]]:
        async def check() -> list[dict[str, Any]] | None:
            response = await self.client.get("/v1/alerts", params={"contact_id": contact_id}, headers=SUPERVISOR)
            assert response.status_code == 200, response.text
            items = response.json()["items"]
            return items if expect is None or len(items) >= expect else None

        return await eventually(check) if expect else await check() or []  # type: ignore[return-value]


def parse_sse(text: str) -> list[dict[str, Any]]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
                      and ": " in line)
        if fields.get("event") == "alert":
            events.append({"id": int(fields["id"]), "alert": json.loads(fields["data"])})
    return events


async def read_stream(client, agent: str, *, last_event_id: int | None = None, max_events: int = 1,
                      timeout_s: float = 20, roles: tuple[str, ...] = ("agent",)) -> list[dict[str, Any]]:
    headers = {**bearer(agent, *roles), **({"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {})}
    params = {"max_events": max_events, "timeout_s": timeout_s}
    async with client.stream("GET", f"/v1/agents/{agent}/alerts/stream", params=params, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return parse_sse("".join([chunk async for chunk in response.aiter_text()]))


async def start_at_end(bootstrap: str, settings: AlertsSettings) -> None:
    """The test app reads only what its tests publish, not what every session before it left on a shared broker."""
    group = f"{settings.consumer_group_prefix}{settings.service_name}.{CONSUMER}"
    await commit_group_at_end(bootstrap, group, list(CONSUMED_TOPICS))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def alerts(stack) -> AsyncIterator[Alerts]:
    settings = AlertsSettings(kafka_bootstrap_servers=stack.kafka_bootstrap, mongodb_uri=stack.mongodb_uri,
                              mongodb_database=unique("alerts_test").replace("-", "_"),
                              consumer_group_prefix=unique("t") + ".", consumer_retry_backoff_s=0.01,
                              rules_refresh_interval_s=0.2)
    await start_at_end(stack.kafka_bootstrap, settings)
    app = build_app(settings)
    async with running_app(app) as client:
        yield Alerts(client, app, stack.kafka_bootstrap)


def now() -> datetime:
    return datetime.now(UTC)


def agreement(account_id: str, *, balance: str = "10", dunning_level: int = 0, version: int = 1,
              time: datetime | None = None, credit_status: str = "good",
              open_bills: list[tuple[str, str]] = ()) -> Envelope:  # type: ignore[assignment]
    bills = [OpenBill(bill_id=unique("bill"), amount=Decimal(amount), due_date=due) for amount, due in open_bills]
    data = BusinessAgreementUpserted(business_agreement_id=unique("ba"), account_id=account_id, source_version=version,
                                     balance=Decimal(balance), currency="EUR", dunning_level=dunning_level,
                                     credit_status=credit_status, open_bills=bills)
    return new_envelope(data, source="/test", time=time or now() - timedelta(minutes=5))


def identified(contact_id: str, account_id: str | None, *, agent_id: str | None = "a-17", confirmed: bool = False,
               method: str = "auto_number", time: datetime | None = None) -> Envelope:
    data = ContactIdentified(contact_id=contact_id, account_id=account_id, method=method,  # type: ignore[arg-type]
                             confirmed=confirmed, agent_id=agent_id)
    return new_envelope(data, source="/test", time=time or now(), correlation_id=contact_id)
