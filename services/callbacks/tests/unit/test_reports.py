"""The supervisor's reports on the in-memory store, with a clock that moves past the due times."""

from __future__ import annotations

from datetime import timedelta

import pytest

from datetime import UTC, datetime

from icsuite_chassis.store import InMemoryAggregateStore
from icsuite_chassis.testing import SettableClock

from icsuite_callbacks import handlers
from icsuite_callbacks.domain import Actor, CallbackRequest
from icsuite_callbacks.domain import lifecycle as lc
from icsuite_callbacks.handlers import CallbacksService, reports
from icsuite_callbacks.projections import Identifications
from icsuite_callbacks.repository import COLLECTION, PROFILES, QUEUED, SLOTS, ProfileCodec, SlotsCodec, WorkItemCodec

pytestmark = [pytest.mark.unit]
NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


def service(clock: SettableClock | None = None) -> CallbacksService:
    return CallbacksService(items=InMemoryAggregateStore(COLLECTION, WorkItemCodec(), queue=QUEUED),
                            profiles=InMemoryAggregateStore(PROFILES, ProfileCodec()),
                            slots=InMemoryAggregateStore(SLOTS, SlotsCodec()),
                            identifications=Identifications.in_memory(), clock=clock or SettableClock(NOW))


async def queue(svc: CallbacksService, count: int) -> list[str]:
    requests = [CallbackRequest(request_id=f"cbr-{n}", callback_number=f"+49301234{n:04d}", channel="web",
                                account_id=f"acc-{n}") for n in range(count)]
    return [(await handlers.submit_request(svc, r)).callback_id for r in requests]


async def test_the_report_counts_open_items_by_status_and_queue_and_finds_the_breached_and_the_oldest() -> None:
    clock = SettableClock(NOW)
    svc = service(clock)
    first, second, third = await queue(svc, 3)
    await handlers.claim(svc, second, lc.Claim(Actor("anna")))
    await handlers.cancel(svc, third, lc.Cancel(Actor("sup", supervisor=True)))
    due = (await handlers.get_callback(svc, first)).due_at
    report = await reports.callback_report(svc)
    assert report.counts == {("queued", "general"): 1, ("claimed", "general"): 1}
    assert (report.breached, report.due_soon, report.oldest_waiting.callback_id) == (0, 0, first)
    clock.now = due - timedelta(minutes=10)
    report = await reports.callback_report(svc)
    assert (report.breached, report.due_soon) == (0, 2)
    clock.now = due + timedelta(seconds=1)
    report = await reports.callback_report(svc)
    assert (report.breached, report.due_soon) == (2, 0)
    at_risk = await reports.at_risk_callbacks(svc, timedelta(0), 1, None)
    rest = await reports.at_risk_callbacks(svc, timedelta(0), 5, (at_risk[0].due_at, at_risk[0].callback_id))
    assert sorted(i.callback_id for i in at_risk + rest) == sorted([first, second]) and len(rest) == 1


async def test_open_work_counts_each_agents_claimed_and_started_items_page_by_page() -> None:
    svc = service()
    items = await queue(svc, 4)
    for callback_id, agent in zip(items, ["bea", "anna", "anna", "carl"], strict=True):
        await handlers.claim(svc, callback_id, lc.Claim(Actor(agent)))
    await handlers.start(svc, items[1], lc.Start(Actor("anna")))
    page = await reports.open_callbacks_by_agent(svc, 2, None)
    assert [(a.agent_id, a.claimed, a.in_progress) for a in page] == [("anna", 1, 1), ("bea", 1, 0)]
    assert [a.agent_id for a in await reports.open_callbacks_by_agent(svc, 2, "bea")] == ["carl"]
