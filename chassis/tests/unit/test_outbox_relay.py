"""The outbox relay publishes each entry of a document once and in order, also under concurrent flushes."""

import asyncio

import pytest

from icsuite_chassis.outbox import OutboxRelay

pytestmark = pytest.mark.unit


class _Collection:
    def __init__(self, entries):
        self.doc = {"_id": "d-1", "_outbox": list(entries)}

    async def find_one(self, filter, projection=None):
        await asyncio.sleep(0)
        return {"_id": self.doc["_id"], "_outbox": list(self.doc["_outbox"])}

    async def update_one(self, filter, update):
        await asyncio.sleep(0.01)
        pulled = set(update["$pull"]["_outbox"]["id"]["$in"])
        self.doc["_outbox"] = [e for e in self.doc["_outbox"] if e["id"] not in pulled]


class _SlowPublisher:
    def __init__(self):
        self.published = []

    async def publish_document(self, entry):
        await asyncio.sleep(0.01)
        self.published.append(entry["id"])


async def test_concurrent_flushes_of_one_document_publish_each_entry_once_in_order() -> None:
    collection = _Collection([{"id": "e-1"}, {"id": "e-2"}])
    publisher = _SlowPublisher()
    relay = OutboxRelay({"docs": collection}, ["docs"], publisher)
    first = asyncio.create_task(relay.flush("docs", "d-1"))
    await asyncio.sleep(0.005)
    collection.doc["_outbox"].append({"id": "e-3"})  # a later write while the first flush runs
    await asyncio.gather(first, relay.flush("docs", "d-1"), relay.flush("docs", "d-1"))
    assert publisher.published == ["e-1", "e-2", "e-3"]
    assert collection.doc["_outbox"] == [] and relay._doc_locks == {}
