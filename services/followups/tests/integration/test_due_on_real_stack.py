"""Due calls: a call follow-up whose planned start arrived is reported once with ic.followup.due.v1,
also with two replicas racing and across a crash between the stored report and its publication."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from icsuite_chassis.store import MongoAggregateStore
from icsuite_chassis.testing import bearer, eventually, header, running_app, unique

from icsuite_followups import jobs
from icsuite_followups.bootstrap import build_app
from icsuite_followups.repository import FOLLOWUPS, FollowupCodec

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
DUE = "ic.followup.due.v1"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def replicas(followups_settings):
    """Two replicas of the service on one database, each running the due job every 0.25 s."""
    database = unique("followups").replace("-", "_")
    apps = [build_app(followups_settings(database=database, due_check_interval_s=0.25)) for _ in range(2)]
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(running_app(app)) for app in apps]
        yield list(zip(apps, clients, strict=True))


async def _create(client, **fields) -> str:
    answer = await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": "interaction", "id": unique("int")}, "type": "phone_call", "channel": "phone",
        "account_id": "acc-1", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()["followup_id"]


async def test_a_planned_call_comes_due_exactly_once_with_two_replicas(replicas, followup_events) -> None:
    (app_a, client_a), (app_b, client_b) = replicas
    start = datetime.now(UTC) + timedelta(seconds=1)
    call = await _create(client_a, planned_start=start.isoformat(), owner_id="a-20")
    task = await _create(client_b, planned_start=start.isoformat(), type="task")
    await asyncio.sleep(1.2)
    services = [app.state.service for app in (app_a, app_b)]
    await asyncio.gather(*(jobs.report_due(svc) for svc in services * 4))  # besides the replicas' own timers
    records = await followup_events(call, DUE, expect=2, timeout=4)
    assert len({header(r, "ce_id") for r in records}) == 1  # (two relays may both publish it, with one ce_id)
    data = json.loads(records[0].value)
    assert (data["followup_id"], data["owner_id"], data["account_id"], data["type"]) == (call, "a-20", "acc-1",
                                                                                          "phone_call")
    assert datetime.fromisoformat(data["planned_start"]) == start.replace(microsecond=start.microsecond // 1000 * 1000)
    body = (await client_b.get(f"/v1/followups/{call}", headers=AGENT)).json()
    assert body["came_due_at"] is not None
    assert await followup_events(task, DUE, expect=1, timeout=0.5) == []


async def test_a_crash_between_the_stored_report_and_its_publication_does_not_double_it(
        followups_settings, followup_events) -> None:
    database = unique("followups").replace("-", "_")
    quiet = followups_settings(database=database, due_check_interval_s=3600, outbox_sweep_interval_s=3600)
    first = build_app(quiet)
    async with running_app(first) as client:
        # due a moment after it is created: the app's own due job, which runs once as the app starts, must not
        # be the one that reports it (it may still be in its first run when the create is answered)
        call = await _create(client, planned_start=(datetime.now(UTC) + timedelta(seconds=1)).isoformat())
        svc = first.state.service
        unpublished = MongoAggregateStore(first.state.runtime.db, FOLLOWUPS, FollowupCodec())  # no relay kick
        without_relay = dataclasses.replace(svc, followups=unpublished)
        assert await eventually(lambda: jobs.report_due(without_relay), timeout=10) == 1
    # the process is gone: the report is stored with its event in the outbox, and nothing was published
    assert await followup_events(call, DUE, expect=1, timeout=2) == []

    restarted = build_app(followups_settings(database=database, due_check_interval_s=0.25))
    async with running_app(restarted) as client:
        records = await followup_events(call, DUE, expect=1)  # the relay's sweep at start publishes it
        await asyncio.gather(*(jobs.report_due(restarted.state.service) for _ in range(4)))
        await eventually(lambda: _came_due(client, call))
        assert len(await followup_events(call, DUE, expect=2, timeout=3)) == 1  # the job did not emit again
    assert len(records) == 1


async def _came_due(client, fid: str) -> bool:
    return (await client.get(f"/v1/followups/{fid}", headers=AGENT)).json()["came_due_at"] is not None
