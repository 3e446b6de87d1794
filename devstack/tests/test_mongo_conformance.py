"""The MongoDB-wire server keeps what the services rely on: atomic single-document writes.

Each expectation is what MongoDB itself returns; set ``MONGODB_URI`` to run the same tests against
a real MongoDB. Query shapes, aggregation, GridFS and indexes are in ``test_mongo_conformance_queries``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

pytestmark = pytest.mark.integration

Db = AsyncDatabase[dict[str, Any]]


async def test_concurrent_increments_add_up(db: Db) -> None:
    await db.counters.insert_one({"_id": "c-1", "n": 0})

    await asyncio.gather(
        *(db.counters.update_one({"_id": "c-1"}, {"$inc": {"n": 1}}) for _ in range(200))
    )

    assert await db.counters.find_one({"_id": "c-1"}) == {"_id": "c-1", "n": 200}


async def test_concurrent_claimers_of_one_document_yield_one_winner(db: Db) -> None:
    await db.work.insert_one({"_id": "w-1", "status": "queued", "priority": 5})

    async def claim(agent: str) -> dict[str, Any] | None:
        return await db.work.find_one_and_update(
            {"status": "queued"},
            {"$set": {"status": "claimed", "agent_id": agent}},
            sort=[("priority", -1), ("_id", 1)],
            return_document=ReturnDocument.AFTER,
        )

    results = await asyncio.gather(*(claim(f"a-{i}") for i in range(50)))

    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert await db.work.find_one({"_id": "w-1"}) == winners[0]


async def test_concurrent_claimers_of_many_documents_take_each_once(db: Db) -> None:
    await db.work.insert_many(
        [{"_id": f"w-{i}", "status": "queued", "priority": i % 3} for i in range(10)]
    )

    async def claim(agent: str) -> dict[str, Any] | None:
        return await db.work.find_one_and_update(
            {"status": "queued"},
            {"$set": {"status": "claimed", "agent_id": agent}},
            sort=[("priority", -1), ("_id", 1)],
        )

    results = await asyncio.gather(*(claim(f"a-{i}") for i in range(50)))

    claimed = sorted(result["_id"] for result in results if result is not None)
    assert claimed == sorted(f"w-{i}" for i in range(10))
    assert await db.work.count_documents({"status": "queued"}) == 0


async def test_duplicate_on_unique_index_is_error_11000(db: Db) -> None:
    await db.accounts.create_index("email", unique=True)
    await db.accounts.insert_one({"_id": "a-1", "email": "x@example.org"})

    with pytest.raises(DuplicateKeyError) as caught:
        await db.accounts.insert_one({"_id": "a-2", "email": "x@example.org"})

    assert caught.value.code == 11000


async def test_guarded_upsert_of_an_applied_event_is_error_11000(db: Db) -> None:
    await db.aggregates.insert_one({"_id": "agg-1", "applied": ["e-1"], "n": 1})

    with pytest.raises(DuplicateKeyError) as caught:
        await db.aggregates.update_one(
            {"_id": "agg-1", "applied": {"$ne": "e-1"}},
            {"$push": {"applied": "e-1"}, "$inc": {"n": 1}},
            upsert=True,
        )

    assert caught.value.code == 11000
    assert await db.aggregates.find_one({"_id": "agg-1"}) == {"_id": "agg-1", "applied": ["e-1"], "n": 1}


async def test_guarded_upsert_applies_a_new_event_and_creates_a_missing_document(db: Db) -> None:
    await db.aggregates.insert_one({"_id": "agg-1", "applied": ["e-1"], "n": 1})
    guard = {"applied": {"$ne": "e-2"}}
    update = {"$push": {"applied": "e-2"}, "$inc": {"n": 1}}

    applied = await db.aggregates.update_one({"_id": "agg-1", **guard}, update, upsert=True)
    created = await db.aggregates.update_one({"_id": "agg-2", **guard}, update, upsert=True)

    assert (applied.matched_count, applied.modified_count, applied.upserted_id) == (1, 1, None)
    assert created.upserted_id == "agg-2"
    assert await db.aggregates.find_one({"_id": "agg-1"}) == {
        "_id": "agg-1", "applied": ["e-1", "e-2"], "n": 2,
    }  # fmt: skip
    assert await db.aggregates.find_one({"_id": "agg-2"}) == {"_id": "agg-2", "applied": ["e-2"], "n": 1}


async def test_concurrent_deliveries_of_one_event_apply_once(db: Db) -> None:
    async def apply() -> bool:
        try:
            result = await db.aggregates.update_one(
                {"_id": "agg-9", "applied": {"$ne": "e-9"}},
                {"$push": {"applied": "e-9"}, "$inc": {"n": 1}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return bool(result.matched_count or result.upserted_id is not None)

    outcomes = await asyncio.gather(*(apply() for _ in range(30)))

    assert outcomes.count(True) == 1
    assert await db.aggregates.find_one({"_id": "agg-9"}) == {"_id": "agg-9", "applied": ["e-9"], "n": 1}


async def test_push_each_with_slice_on_two_arrays_in_one_update(db: Db) -> None:
    await db.docs.insert_one({"_id": "d-1", "applied": ["e-1", "e-2"], "outbox": []})

    await db.docs.update_one(
        {"_id": "d-1"},
        {"$push": {
            "applied": {"$each": ["e-3", "e-4"], "$slice": -3},
            "outbox": {"$each": [{"id": "o-1"}, {"id": "o-2"}]},
        }},
    )  # fmt: skip

    assert await db.docs.find_one({"_id": "d-1"}) == {
        "_id": "d-1", "applied": ["e-2", "e-3", "e-4"], "outbox": [{"id": "o-1"}, {"id": "o-2"}],
    }  # fmt: skip


async def test_pull_by_field_and_by_in(db: Db) -> None:
    entries = [{"id": "o-1", "v": 1}, {"id": "o-2", "v": 2}, {"id": "o-3", "v": 3}]
    await db.docs.insert_one({"_id": "d-1", "outbox": entries})

    await db.docs.update_one({"_id": "d-1"}, {"$pull": {"outbox": {"id": "o-1"}}})
    await db.docs.update_one({"_id": "d-1"}, {"$pull": {"outbox": {"id": {"$in": ["o-3", "o-9"]}}}})

    assert await db.docs.find_one({"_id": "d-1"}) == {"_id": "d-1", "outbox": [{"id": "o-2", "v": 2}]}


async def test_add_to_set(db: Db) -> None:
    await db.docs.insert_one({"_id": "d-1", "tags": ["x"]})

    unchanged = await db.docs.update_one({"_id": "d-1"}, {"$addToSet": {"tags": "x"}})
    await db.docs.update_one({"_id": "d-1"}, {"$addToSet": {"tags": {"$each": ["y", "x", "z"]}}})

    assert unchanged.modified_count == 0
    assert await db.docs.find_one({"_id": "d-1"}) == {"_id": "d-1", "tags": ["x", "y", "z"]}


async def test_set_on_insert_only_on_insert(db: Db) -> None:
    for round_ in (1, 2):
        await db.docs.update_one(
            {"_id": "d-1"},
            {"$setOnInsert": {"created": round_}, "$set": {"seen": round_}},
            upsert=True,
        )

    assert await db.docs.find_one({"_id": "d-1"}) == {"_id": "d-1", "created": 1, "seen": 2}


async def test_find_one_and_update_after_with_projection_and_upsert(db: Db) -> None:
    await db.docs.insert_one({"_id": "d-1", "n": 1, "secret": "s", "status": "open"})

    after = await db.docs.find_one_and_update(
        {"_id": "d-1"}, {"$inc": {"n": 1}},
        projection={"n": 1, "status": 1}, return_document=ReturnDocument.AFTER,
    )  # fmt: skip
    before = await db.docs.find_one_and_update({"_id": "d-1"}, {"$inc": {"n": 1}}, {"_id": 0, "n": 1})
    upserted = await db.docs.find_one_and_update(
        {"_id": "d-2"}, {"$set": {"n": 7}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    missing = await db.docs.find_one_and_update({"_id": "d-3"}, {"$set": {"n": 1}})

    assert after == {"_id": "d-1", "n": 2, "status": "open"}
    assert before == {"n": 2}
    assert upserted == {"_id": "d-2", "n": 7}
    assert missing is None


async def test_unordered_bulk_upserts_report_each_duplicate(db: Db) -> None:
    await db.phones.create_index("number", unique=True)
    operations = [
        UpdateOne({"_id": "p-1"}, {"$set": {"number": "+4930111"}}, upsert=True),
        UpdateOne({"_id": "p-2"}, {"$set": {"number": "+4930111"}}, upsert=True),
        UpdateOne({"_id": "p-3"}, {"$set": {"number": "+4930333"}}, upsert=True),
        UpdateOne({"_id": "p-4"}, {"$set": {"number": "+4930333"}}, upsert=True),
    ]

    with pytest.raises(BulkWriteError) as caught:
        await db.phones.bulk_write(operations, ordered=False)

    details = caught.value.details
    assert [(error["index"], error["code"]) for error in details["writeErrors"]] == [(1, 11000), (3, 11000)]
    assert details["nUpserted"] == 2
    assert [(u["index"], u["_id"]) for u in details["upserted"]] == [(0, "p-1"), (2, "p-3")]
    assert sorted(await db.phones.distinct("_id")) == ["p-1", "p-3"]
