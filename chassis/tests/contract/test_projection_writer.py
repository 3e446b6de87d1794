"""The projection writer on the real MongoDB-wire server: each event once, and a rebuild during live traffic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icsuite_chassis.mongo import create_mongo_client, ensure_indexes
from icsuite_chassis.store.projection import CONTROL, ProjectionWriter
from icsuite_chassis.testing import unique
from icsuite_contracts.cloudevents import Envelope

from icsuite_contracts.alerts_v1 import AlertAcknowledged
from icsuite_contracts.cloudevents import new_envelope

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def ack(alert_id: str) -> Envelope:
    return new_envelope(AlertAcknowledged(alert_id=alert_id, rule_id="rule-1", agent_id="a-1",
                                          acknowledged_at=NOW), source="/test")


@dataclass(frozen=True)
class Seen:
    alerts: frozenset[str]


class SeenCodec:
    def encode(self, state: Seen) -> dict[str, Any]:
        return {"alerts": sorted(state.alerts)}

    def decode(self, doc: Mapping[str, Any]) -> Seen:
        return Seen(frozenset(doc.get("alerts", ())))


def project(state: Seen | None, envelope: Envelope) -> Seen:
    """Order-tolerant: the set of alerts acknowledged per agent."""
    return Seen((state.alerts if state else frozenset()) | {envelope.data.alert_id})  # type: ignore[attr-defined]


def by_agent(envelope: Envelope) -> str:
    return envelope.data.agent_id  # type: ignore[attr-defined,no-any-return]


async def _writer(stack: Any) -> tuple[Any, Any, ProjectionWriter[Seen]]:
    client = create_mongo_client(stack.mongodb_uri, app_name="projection-test")
    db = client[unique("proj").replace("-", "_")]
    writer = ProjectionWriter(db, "seen", SeenCodec(), project, by_agent)
    await ensure_indexes(db, writer.indexes())
    return client, db, writer


async def test_each_event_is_applied_once(stack: Any) -> None:
    client, db, writer = await _writer(stack)
    events = [ack(f"al-{i}") for i in range(5)]
    await writer.apply(events)
    outcomes = await writer.apply(events[:2])
    assert all(o.duplicate for o in outcomes)
    doc = await db["seen"].find_one({"_id": "a-1"})
    assert doc["alerts"] == sorted(f"al-{i}" for i in range(5)) and len(doc["_applied"]) == 5
    await client.drop_database(db.name)


async def test_a_rebuild_keeps_what_live_consumers_applied_during_it(stack: Any) -> None:
    client, db, writer = await _writer(stack)
    history = [ack(f"al-{i}") for i in range(50)]
    await writer.apply(history[:30])  # the live projection so far; 30..49 are on the topic but not yet consumed
    live_during_rebuild = [ack(f"live-{i}") for i in range(10)]

    async def replay() -> AsyncIterator[Sequence[Envelope]]:
        # the topic up to the end offsets seen when the replay starts: the history only
        for start in range(0, len(history), 10):
            if start == 20:  # meanwhile the live consumer catches up and new events arrive
                assert (await db[CONTROL].find_one({"_id": "seen"})) is not None
                await writer.apply(history[30:])
                await writer.apply(live_during_rebuild)
            yield history[start:start + 10]

    report = await writer.rebuild(replay)
    assert report.events == 50
    doc = await db["seen"].find_one({"_id": "a-1"})
    expected = sorted({e.data.alert_id for e in history + live_during_rebuild})  # type: ignore[attr-defined]
    assert doc["alerts"] == expected
    assert await db[CONTROL].find_one({"_id": "seen"}) is None
    assert report.shadow not in await db.list_collection_names()
    await writer.apply([ack("after")])  # live writing goes on into the swapped-in collection
    assert "after" in (await db["seen"].find_one({"_id": "a-1"}))["alerts"]
    await client.drop_database(db.name)


def ack_by(agent_id: str, alert_id: str, made: datetime | None = None) -> Envelope:
    return new_envelope(AlertAcknowledged(alert_id=alert_id, rule_id="rule-1", agent_id=agent_id,
                                          acknowledged_at=NOW), source="/test", time=made)


async def test_forgotten_stays_forgotten_and_assigned_stays_assigned_through_late_events_and_a_rebuild(
        stack: Any) -> None:
    client, db, writer = await _writer(stack)
    history = [ack_by("a-1", "al-1"), ack_by("a-2", "al-2"), ack_by("a-3", "al-3")]
    await writer.apply(history)
    await writer.forget(["a-1"])
    await writer.assign(["a-2"], "alerts", ["moved"])  # a stored plain value
    late = ack_by("a-1", "al-late")  # a late event of a purged source
    await writer.apply([late])
    assert await db["seen"].find_one({"_id": "a-1"}) is None
    live = {doc["_id"]: doc["alerts"] async for doc in db["seen"].find()}
    assert live == {"a-2": ["moved"], "a-3": ["al-3"]}

    async def replay() -> AsyncIterator[Sequence[Envelope]]:
        yield [*history, late]

    report = await writer.rebuild(replay)
    assert report.corrections == 2
    assert {doc["_id"]: doc["alerts"] async for doc in db["seen"].find()} == live
    await client.drop_database(db.name)


async def test_an_assignment_reaches_an_entry_whose_earlier_events_are_projected_after_it(stack: Any) -> None:
    """A merge moves the entries it finds; an event made before the move but projected after it (the
    projection lagging) must not put its entry back on the merged account, while an event made after the move
    (from a record the move had reached) keeps what it wrote."""
    client, db, writer = await _writer(stack)
    await writer.apply([ack_by("a-5", "al-5")])
    await writer.assign(["a-4", "a-5"], "alerts", ["moved"])  # a-4 has no entry yet: nothing to move
    made_before = ack_by("a-4", "al-4", made=NOW)  # made before the assignment, projected after it
    made_after = ack_by("a-5", "al-6", made=datetime.now(UTC) + timedelta(seconds=1))
    await writer.apply([made_before, made_after])
    live = {doc["_id"]: doc["alerts"] async for doc in db["seen"].find()}
    assert live == {"a-4": ["moved"], "a-5": ["al-6", "moved"]}
    await client.drop_database(db.name)
