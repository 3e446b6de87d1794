"""The projection of interactions after a rebuild, on the in-memory store: its ``settle`` erases the notes of
every erased account whatever the replayed notes said, and the merge moves folded from the correction log
put the sources on the account they were on live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icsuite_chassis.erasure import ERASED
from icsuite_chassis.store import InMemoryAggregateStore
from icsuite_chassis.store.corrections import ASSIGN, CorrectionCodec, CorrectionLog, fold
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.interactions_v1 import InteractionOpened, NoteAdded

from icsuite_followups.erased_accounts import ERASED_ACCOUNTS, ErasedAccountCodec, mark_erased, sources_settle

from .conftest import InMemoryProjection

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def events(iid: str, account_id: str, text: str) -> list[Any]:
    return [new_envelope(InteractionOpened(interaction_id=iid, origin="contact", channel="phone", direction="inbound",
                                           account_id=account_id, opened_at=NOW), source="/test"),
            new_envelope(NoteAdded(interaction_id=iid, note_id=f"n-{iid}", type="note", language="en", text=text,
                                   author="a-1", created_at=NOW, account_id=account_id), source="/test")]


def state(projection: InMemoryProjection) -> dict[str, tuple[str, list[str]]]:
    return {i: (doc["account_id"], [n["text"] for n in doc["notes"]]) for i, doc in projection.store.documents.items()}


async def test_a_replay_settled_and_folded_equals_the_live_projection() -> None:
    marks = InMemoryAggregateStore(ERASED_ACCOUNTS, ErasedAccountCodec())
    ticks = iter(range(100))
    log = CorrectionLog(InMemoryAggregateStore("_projections_corrections", CorrectionCodec()), "interaction_sources",
                        clock=lambda: NOW + timedelta(seconds=next(ticks)))
    topic = [*events("i-1", "acc-a", "a's"), *events("i-2", "acc-b", "b's"), *events("i-3", "acc-e", "secret")]
    live = InMemoryProjection(sources_settle(marks))
    await live.apply(topic)
    for correction in (await log.record(ASSIGN, ["i-2"], "account_id", "acc-a"),      # b merged into a
                       await log.record(ASSIGN, ["i-1"], "account_id", "acc-c"),      # a merged into c
                       await log.record(ASSIGN, ["i-1"], "account_id", "acc-a")):     # and unmerged
        await fold(live.store, [correction])
    await mark_erased(marks, "acc-e", NOW)
    await live.settle(["i-3"])
    assert state(live) == {"i-1": ("acc-a", ["a's"]), "i-2": ("acc-a", ["b's"]), "i-3": ("acc-e", [ERASED])}

    rebuilt = InMemoryProjection()  # the replay alone, as the rebuild writes it before the fold
    await rebuilt.apply(topic)
    assert state(rebuilt)["i-3"] == ("acc-e", ["secret"]) and state(rebuilt)["i-2"] == ("acc-b", ["b's"])
    await fold(rebuilt.store, await log.in_order())
    await sources_settle(marks)(rebuilt.store, None)
    assert state(rebuilt) == state(live)
