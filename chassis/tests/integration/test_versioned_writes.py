"""Compare-and-set writes on the real MongoDB-wire server: chains, lost races, redelivery, racing appliers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from icsuite_chassis.mongo import create_mongo_client, ensure_indexes
from icsuite_chassis.testing import unique
from icsuite_chassis.versioned import (
    VERSION_FIELD,
    CasBatch,
    VersionConflict,
    apply_versioned,
    read_states,
    version_index,
    versioned,
)

pytestmark = pytest.mark.integration


async def _collection(stack: Any) -> Any:
    client = create_mongo_client(stack.mongodb_uri, app_name="chassis-test")
    db = client[unique("cas").replace("-", "_")]
    await ensure_indexes(db, [version_index("docs")])
    return db["docs"]


def _count(batch: CasBatch[tuple[str, str]], item: tuple[str, str]) -> None:
    """Plan one event ``(doc id, event id)``: add one to the document's count unless it was applied."""
    doc_id, event_id = item
    if event_id not in batch.state(doc_id).applied:
        batch.add(doc_id, {"$inc": {"count": 1}, "$push": {"seen": event_id}}, item, event_id=event_id)


async def test_a_chain_of_events_on_new_and_existing_documents_applies_each_once(stack) -> None:
    docs = await _collection(stack)
    await docs.insert_one({"_id": "old", "count": 10})  # written before versions existed: no _v yet
    items = [("new", "e1"), ("old", "e2"), ("new", "e3"), ("new", "e1"), ("old", "e4")]
    await apply_versioned(docs, items, lambda i: i[0], _count)
    await apply_versioned(docs, items, lambda i: i[0], _count)  # delivered again: nothing changes
    new, old = await docs.find_one({"_id": "new"}), await docs.find_one({"_id": "old"})
    assert (new["count"], new["seen"]) == (2, ["e1", "e3"])
    assert (old["count"], old["seen"]) == (12, ["e2", "e4"])
    assert new[VERSION_FIELD] != old[VERSION_FIELD]


async def test_a_write_that_lost_its_race_is_reported_with_the_rest_of_its_chain(stack) -> None:
    docs = await _collection(stack)
    await docs.insert_one(versioned({"$set": {"count": 0}})["$set"] | {"_id": "x"})
    await docs.insert_one({"_id": "y", "count": 0})
    batch: CasBatch[str] = CasBatch(await read_states(docs, ["x", "y"]))
    batch.add("x", {"$inc": {"count": 1}}, "x1", event_id="x1")
    batch.add("y", {"$inc": {"count": 1}}, "y1", event_id="y1")
    batch.add("x", {"$inc": {"count": 1}}, "x2", event_id="x2")
    await docs.update_one({"_id": "x"}, versioned({"$set": {"other": True}}))  # came between read and write
    assert sorted(await batch.execute(docs)) == ["x1", "x2"]
    assert (await docs.find_one({"_id": "x"}))["count"] == 0
    assert (await docs.find_one({"_id": "y"}))["count"] == 1
    assert await docs.count_documents({}) == 2  # the lost upserts created nothing


async def test_racing_appliers_of_the_same_events_apply_each_exactly_once(stack) -> None:
    """Two consumers (a zombie and its successor) apply the same 300 events to 10 documents at once."""
    docs = await _collection(stack)
    items = [(f"d{n % 10}", f"e{n}") for n in range(300)]
    await asyncio.gather(*(apply_versioned(docs, items[start::3], lambda i: i[0], _count, attempts=50)
                           for start in (0, 1, 2) for _ in range(2)))
    stored = [doc async for doc in docs.find({})]
    assert sum(doc["count"] for doc in stored) == 300
    assert sorted(e for doc in stored for e in doc["seen"]) == sorted(e for _, e in items)


class _Interfering:
    """The collection, with another writer changing ``hot`` just before each of our writes."""

    def __init__(self, collection: Any):
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    async def update_one(self, *args: Any, **kwargs: Any) -> Any:
        await self._collection.update_one({"_id": "hot"}, versioned({"$inc": {"others": 1}}))
        return await self._collection.update_one(*args, **kwargs)


async def test_a_document_that_keeps_changing_raises_after_the_attempts(stack) -> None:
    docs = await _collection(stack)
    await docs.insert_one({"_id": "hot", "count": 0})
    with pytest.raises(VersionConflict):
        await apply_versioned(_Interfering(docs), [("hot", "e1")], lambda i: i[0], _count, attempts=3)
    hot = await docs.find_one({"_id": "hot"})
    assert (hot.get("count"), hot["others"]) == (0, 3)
    await apply_versioned(docs, [("hot", "e1")], lambda i: i[0], _count)  # the redelivery, undisturbed
    assert (await docs.find_one({"_id": "hot"}))["count"] == 1
