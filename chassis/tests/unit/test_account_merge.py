"""A service's part of a merge on in-memory stores: what belonged to the source moves, once; the unmerge
moves exactly that back; what was created for the target after the merge stays with it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from icsuite_chassis.account_merge import (
    ACCOUNT_MERGES,
    MergeRecordCodec,
    Movable,
    apply_merge,
    apply_unmerge,
    merge_groups,
    surviving,
)
from icsuite_chassis.store import Change, InMemoryAggregateStore
from icsuite_contracts.account_merges_v1 import AccountMerged, AccountUnmerged

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Thing:
    account_id: str | None
    label: str = ""


class ThingCodec:
    def encode(self, state: Thing) -> dict[str, Any]:
        return {"account_id": state.account_id, "label": state.label}

    def decode(self, doc: Mapping[str, Any]) -> Thing:
        return Thing(doc.get("account_id"), doc.get("label", ""))


MERGED = AccountMerged(merge_id="mg-1", source_account_id="acc-src", target_account_id="acc-tgt",
                       merged_by="sup-1", merged_at=NOW)
UNMERGED = AccountUnmerged(merge_id="mg-1", source_account_id="acc-src", target_account_id="acc-tgt",
                           unmerged_by="sup-1", unmerged_at=NOW)


class Kit:
    def __init__(self) -> None:
        self.things: InMemoryAggregateStore[Thing] = InMemoryAggregateStore("things", ThingCodec())
        self.records = InMemoryAggregateStore(ACCOUNT_MERGES, MergeRecordCodec())
        self.relinked: list[tuple[tuple[str, ...], str]] = []

        async def after(ids: Sequence[str], account_id: str) -> None:
            self.relinked.append((tuple(ids), account_id))

        self.movables = [Movable("things", self.things, after=after)]

    async def put(self, thing_id: str, account_id: str | None) -> None:
        await self.things.change(thing_id, lambda _: Change(Thing(account_id, thing_id)))

    def accounts(self) -> dict[str, str | None]:
        return {thing_id: doc["account_id"] for thing_id, doc in sorted(self.things.documents.items())}


@pytest.fixture
async def kit() -> Kit:
    kit = Kit()
    for thing_id, account_id in (("t1", "acc-src"), ("t2", "acc-src"), ("t3", "acc-tgt"), ("t4", "acc-other")):
        await kit.put(thing_id, account_id)
    return kit


async def test_a_merge_moves_the_sources_objects_once_and_records_them(kit: Kit) -> None:
    record = await apply_merge(kit.records, kit.movables, MERGED, "ev-merge", lambda: NOW)
    assert record is not None and record.status == "merged" and record.moved == {"things": ("t1", "t2")}
    assert record.counts() == {"things": 2} and record.merged_at == NOW and record.by == "sup-1"
    assert kit.accounts() == {"t1": "acc-tgt", "t2": "acc-tgt", "t3": "acc-tgt", "t4": "acc-other"}
    versions = {i: doc["_version"] for i, doc in kit.things.documents.items()}
    again = await apply_merge(kit.records, kit.movables, MERGED, "ev-merge", lambda: NOW)
    assert again == record
    assert {i: doc["_version"] for i, doc in kit.things.documents.items()} == versions  # nothing moved twice


async def test_an_unmerge_restores_exactly_what_the_merge_moved(kit: Kit) -> None:
    before = kit.accounts()
    await apply_merge(kit.records, kit.movables, MERGED, "ev-merge", lambda: NOW)
    await kit.put("t5", "acc-tgt")        # created for the surviving account after the merge
    record = await apply_unmerge(kit.records, kit.movables, UNMERGED, "ev-unmerge", lambda: NOW)
    assert record is not None and record.status == "unmerged" and record.unmerged_by == "sup-1"
    assert kit.accounts() == {**before, "t5": "acc-tgt"}
    assert kit.relinked == [(("t1", "t2"), "acc-tgt"), (("t1", "t2"), "acc-src")]
    assert await apply_merge(kit.records, kit.movables, MERGED, "ev-merge", lambda: NOW) is None  # late repeat
    assert kit.accounts() == {**before, "t5": "acc-tgt"}


async def test_a_redelivery_after_a_crash_mid_way_finishes_the_merge(kit: Kit) -> None:
    calls = 0

    async def crash_once(ids: Sequence[str], account_id: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("crash after the move, before the mark")

    movables = [Movable("things", kit.things, after=crash_once)]
    with pytest.raises(RuntimeError):
        await apply_merge(kit.records, movables, MERGED, "ev-merge", lambda: NOW)
    record = await apply_merge(kit.records, movables, MERGED, "ev-merge", lambda: NOW)
    assert record is not None and record.status == "merged" and record.moved == {"things": ("t1", "t2")}


async def test_an_unmerge_of_a_merge_never_applied_keeps_a_late_merge_from_applying(kit: Kit) -> None:
    before = kit.accounts()
    record = await apply_unmerge(kit.records, kit.movables, UNMERGED, "ev-unmerge", lambda: NOW)
    assert record is not None and record.status == "unmerged" and record.moved == {}
    assert await apply_merge(kit.records, kit.movables, MERGED, "ev-merge", lambda: NOW) is None
    assert kit.accounts() == before


async def test_merge_groups_name_the_surviving_account_and_those_merged_into_it(kit: Kit) -> None:
    second = AccountMerged(merge_id="mg-2", source_account_id="acc-other", target_account_id="acc-tgt",
                           merged_by="sup-1", merged_at=NOW)
    assert await merge_groups(kit.records, ["acc-src", "acc-tgt"]) == {}
    await apply_merge(kit.records, kit.movables, MERGED, "ev-1", lambda: NOW)
    await apply_merge(kit.records, kit.movables, second, "ev-2", lambda: NOW)
    group = ("acc-tgt", "acc-other", "acc-src")
    assert await merge_groups(kit.records, ["acc-src", "acc-alone"]) == {"acc-src": group}
    assert await merge_groups(kit.records, ["acc-tgt"]) == {"acc-tgt": group}
    groups = await merge_groups(kit.records, ["acc-src", "acc-x", "acc-tgt"])
    assert surviving(groups, ["acc-x", "acc-src", "acc-tgt", "acc-other"]) == ["acc-x", "acc-tgt", "acc-other"]

    await apply_unmerge(kit.records, kit.movables, UNMERGED, "ev-3", lambda: NOW)
    assert await merge_groups(kit.records, ["acc-src"]) == {}
    assert await merge_groups(kit.records, ["acc-tgt"]) == {"acc-tgt": ("acc-tgt", "acc-other")}
    assert surviving(await merge_groups(kit.records, ["acc-src", "acc-tgt"]), ["acc-src", "acc-tgt"]) == [
        "acc-src", "acc-tgt"]
