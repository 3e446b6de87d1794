"""The merges' documents: ``account_merges`` (the merge records, with their events' outbox) and
``merge_marks`` (a merged source account's mark, by account id)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.store import AggregateStore, InMemoryAggregateStore, MongoAggregateStore, store_indexes
from pymongo.asynchronous.database import AsyncDatabase

from ..domain.merges import AccountMerge, MergeMark

ACCOUNT_MERGES, MERGE_MARKS = "account_merges", "merge_marks"
MERGE_INDEXES: tuple[IndexSpec, ...] = (
    *store_indexes(ACCOUNT_MERGES), *store_indexes(MERGE_MARKS),
    IndexSpec(ACCOUNT_MERGES, [("target_account_id", 1), ("status", 1)]),
)


class MergeCodec:
    def encode(self, state: AccountMerge) -> dict[str, Any]:
        return asdict(state)

    def decode(self, doc: Mapping[str, Any]) -> AccountMerge:
        return AccountMerge(**{name: doc.get(name) for name in AccountMerge.__dataclass_fields__})


class MergeMarkCodec:
    def encode(self, state: MergeMark) -> dict[str, Any]:
        return asdict(state)

    def decode(self, doc: Mapping[str, Any]) -> MergeMark:
        return MergeMark(doc["account_id"], doc.get("merge_id"), doc.get("target_account_id"))


@dataclass(frozen=True)
class MergeStores:
    merges: AggregateStore[AccountMerge]
    marks: AggregateStore[MergeMark]

    async def mark(self, account_id: str) -> MergeMark | None:
        stored = await self.marks.get(account_id)
        return stored.state if stored is not None and stored.state.merge_id is not None else None

    async def merged_into(self, account_id: str) -> int:
        """How many accounts are merged into ``account_id`` now."""
        return len(await self.merges.find({"target_account_id": account_id, "status": "merged"}, limit=1000))


def mongo_merge_stores(db: AsyncDatabase[dict[str, Any]], kick: Callable[[str, Any], None] | None = None) -> MergeStores:
    return MergeStores(MongoAggregateStore(db, ACCOUNT_MERGES, MergeCodec(), kick=kick),
                       MongoAggregateStore(db, MERGE_MARKS, MergeMarkCodec()))


def memory_merge_stores() -> MergeStores:
    return MergeStores(InMemoryAggregateStore(ACCOUNT_MERGES, MergeCodec()),
                       InMemoryAggregateStore(MERGE_MARKS, MergeMarkCodec()))
