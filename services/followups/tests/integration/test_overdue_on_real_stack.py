"""Overdue: reported once per follow-up, also with two replicas and extra concurrent runs of the job."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from icsuite_chassis.testing import bearer, eventually, header, running_app, unique

from icsuite_followups import jobs
from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
OVERDUE = "ic.followup.overdue.v1"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def replicas(followups_settings):
    """Two replicas of the service on one database, each running the overdue job every 0.25 s."""
    database = unique("followups").replace("-", "_")
    apps = [build_app(followups_settings(database=database)) for _ in range(2)]
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(running_app(app)) for app in apps]
        yield list(zip(apps, clients, strict=True))


def _iso(moment: datetime) -> str:
    return moment.isoformat()


async def _create(client, **fields) -> str:
    answer = await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": "interaction", "id": unique("int")}, "type": "task", "channel": "phone", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()["followup_id"]


async def test_a_passed_due_date_is_reported_exactly_once(replicas, followup_events) -> None:
    (app_a, client_a), (app_b, client_b) = replicas
    now = datetime.now(UTC)
    overdue = await _create(client_a, due_at=_iso(now - timedelta(minutes=1)), account_id="acc-9")
    # more runs of the job at the same moment, in both replicas, besides their own timers
    services = [app.state.service for app in (app_a, app_b)]
    reported = await asyncio.gather(*(jobs.report_overdue(svc) for svc in services * 4))
    assert sum(reported) <= 1  # the replicas' own timers may have won before
    records = await followup_events(overdue, OVERDUE, expect=1)
    # One event. (Two replicas' outbox relays may both publish it, with the same ce_id, which every
    # consumer deduplicates: the chassis relay is at-least-once across processes.)
    assert len({header(r, "ce_id") for r in records}) == 1
    assert json.loads(records[0].value)["account_id"] == "acc-9"
    assert (await client_b.get(f"/v1/followups/{overdue}", headers=AGENT)).json()["overdue"] is True


async def test_future_finished_and_undated_follow_ups_are_not_reported(replicas, followup_events) -> None:
    (_, client), _ = replicas
    now = datetime.now(UTC)
    future = await _create(client, due_at=_iso(now + timedelta(hours=1)))
    undated = await _create(client)
    done = await _create(client, due_at=_iso(now + timedelta(seconds=10)))  # margin for a loaded machine
    assert (await client.patch(f"/v1/followups/{done}", headers=AGENT, json={"status": "completed"})).status_code == 200
    assert datetime.now(UTC) < now + timedelta(seconds=10)  # completed before it was due
    soon = await _create(client, due_at=_iso(now + timedelta(seconds=11)))
    await followup_events(soon, OVERDUE, expect=1, timeout=60)  # by then the job ran past `done`'s due date
    for fid in (future, undated, done):
        assert await followup_events(fid, OVERDUE, expect=1, timeout=0.5) == []


async def test_a_new_due_date_can_be_missed_again(replicas, followup_events) -> None:
    (_, client), _ = replicas
    fid = await _create(client, due_at=_iso(datetime.now(UTC) - timedelta(minutes=5)))

    async def reported() -> bool:
        return (await client.get(f"/v1/followups/{fid}", headers=AGENT)).json()["overdue"]

    await eventually(reported)
    moved = await client.patch(f"/v1/followups/{fid}", headers=AGENT,
                               json={"due_at": _iso(datetime.now(UTC) + timedelta(seconds=1))})
    assert moved.json()["overdue"] is False
    records = await followup_events(fid, OVERDUE, expect=2)
    assert len({header(r, "ce_id") for r in records}) == 2
    assert len({json.loads(r.value)["due_at"] for r in records}) == 2


async def test_one_replica_publishes_the_overdue_event_exactly_once(followups_settings, followup_events) -> None:
    app = build_app(followups_settings())
    async with running_app(app) as client:
        fid = await _create(client, due_at=_iso(datetime.now(UTC) - timedelta(seconds=1)))
        await asyncio.gather(*(jobs.report_overdue(app.state.service) for _ in range(6)))
        records = await followup_events(fid, OVERDUE, expect=1)
    assert len(records) == 1
