"""The aggregate store on MongoDB (and on the local stack's MongoDB-wire server)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from ..mongo import DUPLICATE_KEY, IndexSpec, is_duplicate_key
from .base import DEFAULT_ATTEMPTS, AggregateStore
from .core import write_update
from .core import OUTBOX_FIELD, VERSION_FIELD, Codec, S, Write

_WITHOUT_OUTBOX = {OUTBOX_FIELD: 0}
QUEUE_MARKS = "store_queue_marks"
"""One document per collection with a claim queue: ``{_id: collection, mark}`` (see ``first``)."""


def store_indexes(collection: str) -> list[IndexSpec]:
    """The indexes the store needs on ``collection``; declare them with the service's other indexes.

    The one trick for the local stack's MongoDB-wire server lives here: that server answers a filter
    from an index only when the filter's keys are exactly an index's keys, so the guarded write's
    ``{_id, _version}`` would scan the collection without the unique ``(_id, _version)`` index.
    MongoDB answers it from ``_id`` alone; there the index costs one small key per document.
    """
    return [IndexSpec(collection, [("_id", 1), (VERSION_FIELD, 1)], unique=True, name="_id_1__version_1")]


def _guard(write: Write) -> dict[str, Any]:
    if write.exists and write.expected_version is None:  # written before the store: no version yet
        return {"_id": write.doc_id, VERSION_FIELD: {"$exists": False}}
    return {"_id": write.doc_id, VERSION_FIELD: write.expected_version or 0}


class MongoAggregateStore(AggregateStore[S]):
    """Documents of one collection; every write is an upsert guarded by ``{_id, _version}``.

    A write that lost its race matches nothing, so its upsert tries to insert a second document with the
    same ``_id`` and is refused with a duplicate key: that is how a lost race is told apart, per write,
    inside one unordered bulk write.
    """

    def __init__(self, db: AsyncDatabase[dict[str, Any]], name: str, codec: Codec[S], *,
                 kick: Callable[[str, Any], None] | None = None, attempts: int = DEFAULT_ATTEMPTS,
                 queue: Mapping[str, Any] | None = None):
        super().__init__(name, codec, kick=kick, attempts=attempts, queue=queue)
        self.collection: AsyncCollection[dict[str, Any]] = db[name]
        self._marks: AsyncCollection[dict[str, Any]] = db[QUEUE_MARKS]

    async def _read(self, ids: Sequence[Any]) -> dict[Any, dict[str, Any]]:
        if len(ids) == 1:
            one = await self.collection.find_one({"_id": ids[0]}, _WITHOUT_OUTBOX)
            return {ids[0]: one} if one is not None else {}
        return {doc["_id"]: doc async for doc in self.collection.find({"_id": {"$in": list(ids)}}, _WITHOUT_OUTBOX)}

    async def _write(self, writes: Sequence[Write]) -> set[Any]:
        if len(writes) == 1:
            try:
                await self.collection.update_one(_guard(writes[0]), write_update(writes[0]), upsert=True)
            except Exception as exc:
                if is_duplicate_key(exc):
                    return {writes[0].doc_id}
                raise
            return set()
        operations = [UpdateOne(_guard(write), write_update(write), upsert=True) for write in writes]
        try:
            await self.collection.bulk_write(operations, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            return {writes[error["index"]].doc_id for error in errors}
        return set()

    async def _read_mark(self) -> int:
        doc = await self._marks.find_one({"_id": self.name})
        return int(doc["mark"]) if doc is not None else 0

    async def raise_mark(self) -> None:
        for _ in range(2):  # two first upserts at once: one of them meets the other's document
            try:
                await self._marks.update_one({"_id": self.name}, {"$inc": {"mark": 1}}, upsert=True)
                return
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise

    async def _delete(self, ids: Sequence[Any], guard: Mapping[str, Any]) -> set[Any]:
        await self.collection.delete_many({"$and": [{"_id": {"$in": list(ids)}}, dict(guard)]})
        left = {doc["_id"] async for doc in self.collection.find({"_id": {"$in": list(ids)}}, {"_id": 1})}
        return {doc_id for doc_id in ids if doc_id not in left}

    async def _find(self, filter: Mapping[str, Any], sort: Sequence[tuple[str, int]],
                    limit: int) -> list[dict[str, Any]]:
        cursor = self.collection.find(dict(filter), _WITHOUT_OUTBOX)
        if sort:
            cursor = cursor.sort(list(sort))
        return [doc async for doc in cursor.limit(limit)]

    async def count_by(self, filter: Mapping[str, Any], keys: Sequence[str], *,
                       unwind: str | None = None) -> dict[tuple[Any, ...], int]:
        pipeline: list[dict[str, Any]] = [{"$match": dict(filter)}]
        if unwind is not None:
            pipeline.append({"$unwind": f"${unwind}"})
        group = {f"k{n}": f"${key}" for n, key in enumerate(keys)}
        pipeline.append({"$group": {"_id": group, "count": {"$sum": 1}}})
        counts: dict[tuple[Any, ...], int] = {}
        async for row in await self.collection.aggregate(pipeline):
            key = tuple(row["_id"].get(f"k{n}") for n in range(len(keys)))
            counts[key] = counts.get(key, 0) + int(row["count"])
        return counts
