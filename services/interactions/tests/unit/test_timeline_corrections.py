"""The timeline rebuilt from its events and folded with its correction log equals the live timeline that got
the same purges and merge moves between its events (the in-memory store; the real-stack test is
``tests/integration/test_timeline_corrections.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icsuite_chassis.store import Change, InMemoryAggregateStore, Item
from icsuite_chassis.store.corrections import ASSIGN, FORGET, CorrectionCodec, CorrectionLog, apply_correction, fold
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.interactions_v1 import InteractionClosed, InteractionOpened, NoteAdded
from icsuite_contracts.testing import sample_event

from icsuite_interactions.projections.timeline import EntryCodec, TimelineEntry, entry_key, project

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def opened(iid: str, account_id: str) -> Any:
    return new_envelope(sample_event(InteractionOpened, interaction_id=iid, account_id=account_id), source="/t")


def closed(iid: str, account_id: str) -> Any:
    return new_envelope(sample_event(InteractionClosed, interaction_id=iid, account_id=account_id), source="/t")


def noted(iid: str) -> Any:
    return new_envelope(sample_event(NoteAdded, interaction_id=iid), source="/t")


async def applied(store: InMemoryAggregateStore[TimelineEntry], envelopes: list[Any], log: CorrectionLog) -> None:
    """What the writer's apply does: each event once, forgotten entries not written."""
    forgotten = await log.forgotten({entry_key(e) for e in envelopes})

    def decide(envelope: Any) -> Any:
        return lambda current: Change(project(current.state if current else None, envelope))

    await store.change_many([Item(entry_key(e), decide(e), e.id) for e in envelopes if entry_key(e) not in forgotten])


def entries(store: InMemoryAggregateStore[TimelineEntry]) -> dict[str, tuple[str | None, str, int]]:
    codec = EntryCodec()
    return {i: (e.account_id, e.status, e.note_count) for i, doc in store.documents.items()
            if (e := codec.decode(doc))}


async def test_purges_merges_and_an_unmerge_between_the_events_come_out_as_live() -> None:
    ticks = iter(range(100))
    log = CorrectionLog(InMemoryAggregateStore("_projections_corrections", CorrectionCodec()), "timeline",
                        clock=lambda: NOW + timedelta(seconds=next(ticks)))
    live: InMemoryAggregateStore[TimelineEntry] = InMemoryAggregateStore("timeline", EntryCodec())
    topic: list[Any] = []

    async def events(*envelopes: Any) -> None:
        topic.extend(envelopes)
        await applied(live, list(envelopes), log)

    async def corrected(kind: str, ids: list[str], value: str | None = None) -> None:
        await apply_correction(live, await log.record(kind, ids, "account_id" if value else None, value))

    await events(opened("i-old", "acc-a"), closed("i-old", "acc-a"), opened("i-a", "acc-a"), opened("i-b", "acc-b"),
                 opened("i-c", "acc-c"), closed("i-c", "acc-c"))
    await corrected(FORGET, ["i-old"])                     # retention
    await events(noted("i-old"), noted("i-b"))             # a late note of the purged record
    await corrected(ASSIGN, ["i-b"], "acc-a")              # b merged into a
    await events(closed("i-b", "acc-a"))                   # closed on the account it now has
    await corrected(ASSIGN, ["i-c"], "acc-d")              # c merged into d
    await corrected(ASSIGN, ["i-c"], "acc-c")              # and unmerged
    assert entries(live) == {"i-a": ("acc-a", "open", 0), "i-b": ("acc-a", "closed", 1),
                             "i-c": ("acc-c", "closed", 0)}

    rebuilt: InMemoryAggregateStore[TimelineEntry] = InMemoryAggregateStore("timeline__rebuild", EntryCodec())
    await applied(rebuilt, topic, log)
    await fold(rebuilt, await log.in_order())
    assert entries(rebuilt) == entries(live)
    await fold(rebuilt, await log.in_order())  # a rebuild run again after a crash: the same
    assert entries(rebuilt) == entries(live)
