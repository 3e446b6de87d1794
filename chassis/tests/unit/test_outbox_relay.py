"""The outbox relay publishes each entry of a document once and in order, also under concurrent flushes."""

import asyncio

import pytest

from pymongo import UpdateOne

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


# --- batching ------------------------------------------------------------------------------------------


class _Docs:
    """The few collection calls the relay makes, in memory, counted."""

    def __init__(self, docs):
        self.docs = {doc["_id"]: doc for doc in docs}
        self.calls = []
        self.attempts_stored = []

    async def find_one(self, filter, projection=None):
        self.calls.append("find_one")
        await asyncio.sleep(0)
        doc = self.docs.get(filter["_id"])
        return None if doc is None else {"_id": doc["_id"], "_outbox": list(doc["_outbox"])}

    def find(self, filter, projection=None):
        if "_id" in filter:
            self.calls.append("find")
            ids = filter["_id"]["$in"]
            found = [{"_id": i, "_outbox": list(self.docs[i]["_outbox"])} for i in ids if i in self.docs]
        else:  # the sweep's query
            found = [{"_id": i} for i, doc in self.docs.items() if doc["_outbox"]]

        async def cursor():
            await asyncio.sleep(0)
            for doc in found:
                yield doc
        return cursor()

    async def update_one(self, filter, update):
        if "$set" in update:  # the parking lot storing an entry's failed sends with it
            for entry in self.docs[filter["_id"]]["_outbox"]:
                if entry["id"] == filter["_outbox.id"]:
                    entry["attempts"] = update["$set"]["_outbox.$.attempts"]
            self.attempts_stored.append((filter["_outbox.id"], update["$set"]["_outbox.$.attempts"]))
            return
        self.calls.append("update_one")
        await self.bulk_write([UpdateOne(filter, update)], _count=False)

    async def bulk_write(self, requests, ordered=True, _count=True):
        if _count:
            self.calls.append(("bulk_write", len(requests), ordered))
        await asyncio.sleep(0)
        for request in requests:
            doc_id = request._filter["_id"]
            pulled = set(request._doc["$pull"]["_outbox"]["id"]["$in"])
            self.docs[doc_id]["_outbox"] = [e for e in self.docs[doc_id]["_outbox"] if e["id"] not in pulled]


class _Producer:
    """``send_document`` hands back a future the test acknowledges (or fails) when it chooses."""

    def __init__(self, fail=()):
        self.sent = []
        self.acks = []
        self.fail = set(fail)
        self.acked_before_last_send = False

    async def publish_document(self, entry):  # pragma: no cover - the relay must use send_document
        raise AssertionError("awaited publish")

    async def send_document(self, entry):
        if any(ack.done() for ack in self.acks):
            self.acked_before_last_send = True
        future = asyncio.get_running_loop().create_future()
        self.sent.append(entry["id"])
        self.acks.append(future)
        asyncio.get_running_loop().call_later(0.01, self._ack, entry["id"], future)
        return future

    def _ack(self, entry_id, future):
        if entry_id in self.fail:
            future.set_exception(RuntimeError(f"broker refused {entry_id}"))
        else:
            future.set_result(None)


def _doc(i, n=2, prefix="d"):
    return {"_id": f"{prefix}-{i}", "_outbox": [{"id": f"{prefix}-{i}/e-{k}"} for k in range(n)]}


def _relay(collections, producer, **options):
    return OutboxRelay(collections, list(collections), producer, sweep_interval_s=3600, **options)


def _start_drain(relay):
    """Only the kick drain, without the sweep at start, so that the calls counted are the drain's."""
    relay._tasks = [asyncio.create_task(relay._drain_kicks())]


async def _drain_kicked(relay, collections):
    """Run the kick drain until every outbox is empty, then stop the relay."""
    _start_drain(relay)
    try:
        await _drained(relay, collections)
    finally:
        await relay.stop()


async def _drained(relay, collections, timeout=5.0):
    for _ in range(int(timeout / 0.01)):
        if all(not doc["_outbox"] for c in collections.values() for doc in c.docs.values()) \
                and not relay._batch_tasks:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("outboxes not drained")


async def test_kicks_are_flushed_per_collection_in_one_read_and_one_bulk_pull() -> None:
    collections = {"a": _Docs([_doc(i, prefix="a") for i in range(300)]),
                   "b": _Docs([_doc(i, n=1, prefix="b") for i in range(40)])}
    producer = _Producer()
    relay = _relay(collections, producer)
    collections["a"].docs["a-7"]["_outbox"] = []   # kicked with nothing to publish
    for i in range(300):
        relay.kick("a", f"a-{i}")
        relay.kick("a", f"a-{i}")                   # a second kick before the drain is the same kick
    for i in range(40):
        relay.kick("b", f"b-{i}")
    await _drain_kicked(relay, collections)
    assert collections["a"].calls == ["find", ("bulk_write", 299, False)]
    assert collections["b"].calls == ["find", ("bulk_write", 40, False)]
    assert len(producer.sent) == 2 * 299 + 40 == len(set(producer.sent))
    assert not producer.acked_before_last_send     # every entry handed over before any acknowledgement
    for i in range(300):                           # entries of one document leave in their order
        if i != 7:
            assert producer.sent.index(f"a-{i}/e-0") < producer.sent.index(f"a-{i}/e-1")
    assert relay._doc_locks == {} and relay._pending == set()


async def test_a_drain_takes_at_most_max_batch_kicks() -> None:
    collections = {"a": _Docs([_doc(i, n=1) for i in range(25)])}
    relay = _relay(collections, _Producer(), max_batch=10, batches_in_flight=1)
    for i in range(25):
        relay.kick("a", f"d-{i}")
    await _drain_kicked(relay, collections)
    assert [c for c in collections["a"].calls if c != "find"] == [
        ("bulk_write", 10, False), ("bulk_write", 10, False), ("bulk_write", 5, False)]


async def test_a_failed_publish_pulls_only_what_was_acknowledged_and_the_sweep_publishes_the_rest() -> None:
    collection = _Docs([_doc(i, n=3) for i in range(5)])
    producer = _Producer(fail={"d-2/e-1"})
    relay = _relay({"docs": collection}, producer)
    with pytest.raises(RuntimeError, match="d-2/e-1"):
        await relay.flush_many("docs", [f"d-{i}" for i in range(5)])
    # d-2/e-2 may have been acknowledged, but only the acknowledged prefix is pulled: the outbox keeps order
    assert {i: [e["id"] for e in d["_outbox"]] for i, d in collection.docs.items() if d["_outbox"]} == {
        "d-2": ["d-2/e-1", "d-2/e-2"]}
    assert collection.calls == ["find", ("bulk_write", 5, False)]
    assert collection.attempts_stored == [("d-2/e-1", 1)]  # the failure is counted with the entry
    producer.fail.clear()
    assert await relay.sweep() == 2
    assert producer.sent[-2:] == ["d-2/e-1", "d-2/e-2"]
    assert collection.docs["d-2"]["_outbox"] == []


async def test_an_entry_the_producer_refuses_holds_back_the_rest_of_its_document() -> None:
    collection = _Docs([_doc(0, n=3), _doc(1, n=1)])

    class Refusing(_Producer):
        async def send_document(self, entry):
            if entry["id"] == "d-0/e-1":
                raise ValueError("too large")
            return await super().send_document(entry)

    producer = Refusing()
    relay = _relay({"docs": collection}, producer)
    with pytest.raises(ValueError):
        await relay.flush_many("docs", ["d-0", "d-1"])
    assert producer.sent == ["d-0/e-0", "d-1/e-0"]   # d-0/e-2 was not sent after d-0/e-1 failed
    assert [e["id"] for e in collection.docs["d-0"]["_outbox"]] == ["d-0/e-1", "d-0/e-2"]
    assert collection.docs["d-0"]["_outbox"][0]["attempts"] == 1 and collection.docs["d-1"]["_outbox"] == []


async def test_a_document_in_a_running_batch_is_flushed_again_after_it_never_twice_at_once() -> None:
    collection = _Docs([_doc(i, n=1) for i in range(4)])
    producer = _Producer()
    relay = _relay({"docs": collection}, producer)
    first = asyncio.create_task(relay.flush_many("docs", ["d-0", "d-1", "d-2"]))
    await asyncio.sleep(0.002)                      # d-0..d-2 are sent, not yet acknowledged
    collection.docs["d-1"]["_outbox"].append({"id": "d-1/late"})
    second = asyncio.create_task(relay.flush_many("docs", ["d-3", "d-1"]))   # d-3 free, d-1 busy
    await asyncio.sleep(0.002)
    assert producer.sent == ["d-0/e-0", "d-1/e-0", "d-2/e-0", "d-3/e-0"]   # d-3 did not wait for d-1
    assert await first == 3 and await second == 2
    assert producer.sent[-1] == "d-1/late" and len(producer.sent) == len(set(producer.sent)) == 5
    assert relay._doc_locks == {}


async def test_overlapping_batches_in_opposite_orders_do_not_wait_on_each_other_forever() -> None:
    collection = _Docs([_doc(i, n=1) for i in range(50)])
    producer = _Producer()
    relay = _relay({"docs": collection}, producer)
    ids = [f"d-{i}" for i in range(50)]
    blocker = asyncio.create_task(relay.flush_many("docs", ids[::7]))    # some documents busy
    await asyncio.sleep(0)
    results = await asyncio.wait_for(asyncio.gather(
        blocker, relay.flush_many("docs", ids), relay.flush_many("docs", ids[::-1]),
        *(relay.flush("docs", i) for i in ids[::3])), timeout=5)
    assert sum(results) == 50 == len(producer.sent) == len(set(producer.sent))
    assert relay._doc_locks == {}


async def test_kick_never_waits_for_a_running_batch() -> None:
    collection = _Docs([_doc(i, n=1) for i in range(3)])
    relay = _relay({"docs": collection}, _Producer(), batches_in_flight=1)
    _start_drain(relay)
    try:
        relay.kick("docs", "d-0")
        await asyncio.sleep(0.002)                  # its batch is waiting for Kafka
        loop = asyncio.get_running_loop()
        started = loop.time()
        for i in range(1000):
            relay.kick("docs", f"d-{i % 3}")
        assert loop.time() - started < 0.05
        await _drained(relay, {"docs": collection})
    finally:
        await relay.stop()


async def test_the_sweep_at_start_and_the_kicks_together_publish_each_entry_once_in_order() -> None:
    collections = {"docs": _Docs([_doc(i, n=3) for i in range(120)])}
    producer = _Producer()
    relay = _relay(collections, producer, max_batch=50)
    await relay.start()                             # the sweep starts at once
    try:
        for i in range(120):
            relay.kick("docs", f"d-{i}")
            if i % 40 == 0:
                await asyncio.sleep(0.003)
        await _drained(relay, collections)
    finally:
        await relay.stop()
    assert len(producer.sent) == 360 == len(set(producer.sent))
    for i in range(120):
        assert [e for e in producer.sent if e.startswith(f"d-{i}/")] == [f"d-{i}/e-{k}" for k in range(3)]


# --- sweeping rarely -----------------------------------------------------------------------------------


class _CountedSweeps(_Docs):
    def __init__(self, docs):
        super().__init__(docs)
        self.scans = 0

    def find(self, filter, projection=None):
        if "_id" not in filter:
            self.scans += 1
        return super().find(filter, projection)


async def test_between_full_sweeps_a_failed_publish_is_retried_by_id_without_a_scan() -> None:
    collection = _CountedSweeps([_doc(0, n=2), _doc(1, n=1)])
    producer = _Producer(fail={"d-0/e-0"})
    relay = OutboxRelay({"docs": collection}, ["docs"], producer, sweep_interval_s=0.01, full_sweep_interval_s=3600,
                        max_attempts=100)
    await relay.start()  # the sweep at start: d-0 fails, d-1 goes
    try:
        await _until(lambda: collection.docs["d-1"]["_outbox"] == [] and relay._failed)
        producer.fail.clear()
        await _until(lambda: collection.docs["d-0"]["_outbox"] == [] and not relay._failed)
    finally:
        await relay.stop()
    assert collection.scans == 1  # the retries read d-0 by id
    assert producer.sent[-2:] == ["d-0/e-0", "d-0/e-1"]  # sent again, in order


async def test_without_a_full_sweep_interval_every_round_sweeps() -> None:
    collection = _CountedSweeps([])
    relay = OutboxRelay({"docs": collection}, ["docs"], _Producer(), sweep_interval_s=0.01)
    relay._tasks = [asyncio.create_task(relay._sweep_forever())]
    try:
        await _until(lambda: collection.scans >= 3)
    finally:
        await relay.stop()


async def _until(condition, attempts: int = 500) -> None:
    for _ in range(attempts):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


class _PreparingProducer(_Producer):
    """A producer that gets ready for a batch (the data keys of its entries) before its sends."""

    def __init__(self, fail_prepare=False):
        super().__init__()
        self.prepared = []
        self.fail_prepare = fail_prepare

    async def prepare_documents(self, entries):
        self.prepared.append(([e["id"] for e in entries], list(self.sent)))
        if self.fail_prepare:
            raise RuntimeError("key vault unreachable")


@pytest.mark.parametrize("fail_prepare", [False, True])
async def test_the_publisher_prepares_a_batch_once_before_its_sends_and_a_failure_sends_anyway(fail_prepare) -> None:
    collections = {"a": _Docs([_doc(i, prefix="a") for i in range(5)])}
    producer = _PreparingProducer(fail_prepare)
    relay = _relay(collections, producer)
    for i in range(5):
        relay.kick("a", f"a-{i}")
    await _drain_kicked(relay, collections)
    assert producer.prepared == [([f"a-{i}/e-{k}" for i in range(5) for k in range(2)], [])]  # once, nothing sent yet
    assert sorted(producer.sent) == sorted(f"a-{i}/e-{k}" for i in range(5) for k in range(2))
