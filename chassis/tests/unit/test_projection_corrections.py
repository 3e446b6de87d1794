"""The correction log of a read model (forget, assign) and its fold, on the in-memory store: a read model
rebuilt from its events and then folded with the log equals the one that got the same corrections live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icsuite_chassis.store import Change, InMemoryAggregateStore, Item, Stored
from icsuite_chassis.store.corrections import (
    ASSIGN,
    FORGET,
    Correction,
    CorrectionCodec,
    CorrectionLog,
    apply_correction,
    fold,
)

pytestmark = pytest.mark.unit
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    account_id: str
    notes: int = 0


class EntryCodec:
    def encode(self, state: Entry) -> dict[str, Any]:
        return {"account_id": state.account_id, "notes": state.notes}

    def decode(self, doc: Mapping[str, Any]) -> Entry:
        return Entry(doc["account_id"], doc.get("notes", 0))


def stepping_clock() -> Any:
    ticks = iter(range(1_000))
    return lambda: START + timedelta(seconds=next(ticks))


def a_log(projection: str = "timeline") -> CorrectionLog:
    return CorrectionLog(InMemoryAggregateStore("_projections_corrections", CorrectionCodec()), projection,
                         clock=stepping_clock())


def entries(store: InMemoryAggregateStore[Entry]) -> dict[str, Entry]:
    return {doc_id: Entry(doc["account_id"], doc["notes"]) for doc_id, doc in store.documents.items()}


async def replayed(events: list[tuple[str, str]]) -> InMemoryAggregateStore[Entry]:
    """A read model from "opened on account" events (entry id, account), as a replay of the topic builds it."""
    store: InMemoryAggregateStore[Entry] = InMemoryAggregateStore("timeline", EntryCodec())

    def opened(account_id: str) -> Any:
        return lambda current: Change(Entry(account_id, current.state.notes if current else 0))

    await store.change_many([Item(doc_id, opened(account)) for doc_id, account in events])
    return store


async def test_a_rebuild_folded_with_the_log_equals_the_live_read_model() -> None:
    events = [("i-1", "acc-a"), ("i-2", "acc-a"), ("i-3", "acc-b"), ("i-4", "acc-c")]
    live, log = await replayed(events), a_log()
    for kind, ids, field, value in [(FORGET, ["i-2"], None, None),                 # retention
                                    (ASSIGN, ["i-1"], "account_id", "acc-b"),      # merge a -> b
                                    (ASSIGN, ["i-4"], "account_id", "acc-b"),      # merge c -> b
                                    (ASSIGN, ["i-4"], "account_id", "acc-c")]:     # its unmerge
        await apply_correction(live, await log.record(kind, ids, field, value))
    rebuilt = await replayed(events)
    assert await fold(rebuilt, await log.in_order()) == 4
    assert entries(rebuilt) == entries(live) == {"i-1": Entry("acc-b"), "i-3": Entry("acc-b"),
                                                 "i-4": Entry("acc-c")}


async def test_folding_twice_changes_nothing_more() -> None:
    events = [("i-1", "acc-a"), ("i-2", "acc-a")]
    log = a_log()
    await log.record(ASSIGN, ["i-1", "i-2"], "account_id", "acc-b")
    await log.record(FORGET, ["i-2"])
    await log.record(ASSIGN, ["i-1", "i-2"], "account_id", "acc-a")
    once = await replayed(events)
    await fold(once, await log.in_order())
    twice = await replayed(events)
    await fold(twice, await log.in_order())
    await fold(twice, await log.in_order())
    assert entries(once) == entries(twice) == {"i-1": Entry("acc-a")}


async def test_the_log_is_folded_in_the_order_the_corrections_were_made() -> None:
    log = a_log()
    merge = await log.record(ASSIGN, ["i-1"], "account_id", "acc-b")
    unmerge = await log.record(ASSIGN, ["i-1"], "account_id", "acc-a")
    remerge = await log.record(ASSIGN, ["i-1"], "account_id", "acc-b")
    assert await log.in_order() == [merge, unmerge, remerge]
    rebuilt = await replayed([("i-1", "acc-a")])
    await fold(rebuilt, await log.in_order())
    assert entries(rebuilt) == {"i-1": Entry("acc-b")}


async def test_an_assign_does_not_create_a_missing_document_nor_touch_others() -> None:
    store = await replayed([("i-1", "acc-a"), ("i-9", "acc-a")])
    log = a_log()
    await apply_correction(store, await log.record(ASSIGN, ["i-1", "i-2"], "account_id", "acc-b"))
    assert entries(store) == {"i-1": Entry("acc-b"), "i-9": Entry("acc-a")}


async def test_forgotten_names_only_ids_of_this_projections_forget_corrections() -> None:
    shared: InMemoryAggregateStore[Correction] = InMemoryAggregateStore("_projections_corrections", CorrectionCodec())
    timeline = CorrectionLog(shared, "timeline", clock=stepping_clock())
    sources = CorrectionLog(shared, "interaction_sources", clock=stepping_clock())
    await timeline.record(FORGET, ["i-1", "i-2"])
    await timeline.record(ASSIGN, ["i-3"], "account_id", "acc-b")
    await sources.record(FORGET, ["i-4"])
    assert await timeline.forgotten({"i-1", "i-3", "i-4", "i-5"}) == {"i-1"}
    assert await sources.forgotten({"i-1", "i-4"}) == {"i-4"}
    assert [c.kind for c in await timeline.in_order()] == [FORGET, ASSIGN]
    assert await timeline.forgotten(set()) == set()


async def test_a_correction_survives_its_codec() -> None:
    correction = Correction("timeline", ASSIGN, ("i-1", "i-2"), START, "account_id", "acc-b")
    codec = CorrectionCodec()
    assert codec.decode(codec.encode(correction)) == correction
    stored: Stored[Correction] = Stored("c-1", correction, 1)
    assert stored.state.ids == ("i-1", "i-2")
