"""One contract for both aggregate stores: every case runs on the in-memory store and on the real
MongoDB-wire server of the test session, so the fake used by the services' unit tests cannot drift."""

from __future__ import annotations

import asyncio
import random
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from icsuite_chassis.mongo import create_mongo_client, ensure_indexes
from icsuite_chassis.store import (
    APPLIED_FIELD,
    OUTBOX_FIELD,
    AggregateStore,
    Change,
    EventTooLarge,
    InMemoryAggregateStore,
    Item,
    MongoAggregateStore,
    StoreConflict,
    Stored,
    store_indexes,
)
from icsuite_chassis.testing import unique
from icsuite_contracts.alerts_v1 import AlertAcknowledged
from icsuite_contracts.cloudevents import Envelope, from_document, new_envelope

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
OPEN = {"status": "open"}


@dataclass(frozen=True)
class Counter:
    count: int = 0
    seen: tuple[str, ...] = ()
    status: str = "open"
    label: str | None = None
    tags: dict[str, int] = field(default_factory=dict)


class CounterCodec:
    def encode(self, state: Counter) -> dict[str, Any]:
        doc: dict[str, Any] = {"count": state.count, "seen": list(state.seen), "status": state.status,
                               "tags": dict(state.tags)}
        if state.label is not None:
            doc["label"] = state.label
        return doc

    def decode(self, doc: Mapping[str, Any]) -> Counter:
        return Counter(doc.get("count", 0), tuple(doc.get("seen", ())), doc.get("status", "open"),
                       doc.get("label"), dict(doc.get("tags", {})))


def ack(alert_id: str, note: str = "x") -> Envelope:
    return new_envelope(AlertAcknowledged(alert_id=alert_id, rule_id="rule-" + note[:20], agent_id="a-1",
                                          acknowledged_at=NOW), source="/test")


def add(n: int = 1, *, events: Callable[[], list[Envelope]] = list,
        seen: str | None = None) -> Callable[[Stored[Counter] | None], Change[Counter]]:
    def decide(current: Stored[Counter] | None) -> Change[Counter]:
        state = current.state if current else Counter()
        return Change(replace(state, count=state.count + n, seen=state.seen + ((seen,) if seen else ())), events())

    return decide


class Backend:
    """Two stores on the same documents (two replicas) and a look at the raw documents."""

    def __init__(self, a: AggregateStore[Counter], b: AggregateStore[Counter],
                 raw: Callable[[str], Awaitable[dict[str, Any] | None]],
                 put_raw: Callable[[dict[str, Any]], Awaitable[None]],
                 marked: Callable[[], AggregateStore[Counter]]):
        self.a, self.b, self.raw, self.put_raw = a, b, raw, put_raw
        self.marked = marked
        """A new store on the same documents with the claim queue ``OPEN`` (another replica, as built)."""


@pytest.fixture(params=[pytest.param("memory", marks=pytest.mark.unit),
                        pytest.param("mongo", marks=pytest.mark.integration)])
async def backend(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        memory: InMemoryAggregateStore[Counter] = InMemoryAggregateStore("counters", CounterCodec())

        async def raw(doc_id: str) -> dict[str, Any] | None:
            return memory.documents.get(doc_id)

        async def put(doc: dict[str, Any]) -> None:
            memory.put_raw(doc)

        marked_memory = InMemoryAggregateStore("counters", CounterCodec(), queue=OPEN)
        marked_memory.documents = memory.documents
        yield Backend(memory, memory.shared_with(), raw, put, marked_memory.shared_with)
        return
    stack = request.getfixturevalue("stack")
    client = create_mongo_client(stack.mongodb_uri, app_name="store-contract")
    db = client[unique("store").replace("-", "_")]
    await ensure_indexes(db, store_indexes("counters"))

    async def mongo_raw(doc_id: str) -> dict[str, Any] | None:
        return await db["counters"].find_one({"_id": doc_id})

    async def mongo_put(doc: dict[str, Any]) -> None:
        await db["counters"].insert_one(doc)

    yield Backend(MongoAggregateStore(db, "counters", CounterCodec()),
                  MongoAggregateStore(db, "counters", CounterCodec()), mongo_raw, mongo_put,
                  lambda: MongoAggregateStore(db, "counters", CounterCodec(), queue=OPEN))
    await client.drop_database(db.name)
    await client.close()


async def test_a_first_change_creates_the_document_at_version_one(backend: Backend) -> None:
    assert await backend.a.get("c1") is None
    outcome = await backend.a.change("c1", add(2))
    assert outcome.changed and outcome.stored == Stored("c1", Counter(count=2), 1)
    assert await backend.a.get("c1") == Stored("c1", Counter(count=2), 1)
    await backend.a.change("c1", add(3))
    assert await backend.b.get("c1") == Stored("c1", Counter(count=5), 2)


async def test_get_many_answers_the_existing_documents_by_id_in_one_read(backend: Backend) -> None:
    assert await backend.a.get_many([]) == {}
    await backend.a.change("c1", add(1))
    await backend.a.change("c2", add(2))
    found = await backend.b.get_many(["c2", "missing", "c1", "c2"])
    assert found == {"c2": Stored("c2", Counter(count=2), 1), "c1": Stored("c1", Counter(count=1), 1)}
    assert list(found) == ["c2", "c1"]


async def test_no_change_writes_nothing(backend: Backend) -> None:
    await backend.a.change("c1", add(1))
    outcome = await backend.a.change("c1", lambda current: None, event_id="e-none")
    assert not outcome.changed and outcome.stored is not None and outcome.stored.version == 1
    raw = await backend.raw("c1")
    assert raw is not None and "e-none" not in raw.get(APPLIED_FIELD, [])


async def test_a_redelivered_event_has_no_second_effect(backend: Backend) -> None:
    first = await backend.a.change("c1", add(1), event_id="e-1")
    again = await backend.b.change("c1", add(1), event_id="e-1")
    assert first.changed and not first.duplicate
    assert again.duplicate and not again.changed
    stored = await backend.a.get("c1")
    assert stored is not None and stored.state.count == 1 and stored.version == 1


async def test_events_ride_in_the_outbox_of_the_same_write(backend: Backend) -> None:
    events = [ack("al-1"), ack("al-2")]
    outcome = await backend.a.change("c1", add(1, events=lambda: events), event_id="e-1")
    assert [e.id for e in outcome.events] == [e.id for e in events]
    raw = await backend.raw("c1")
    assert raw is not None
    assert [from_document(entry).id for entry in raw[OUTBOX_FIELD]] == [e.id for e in events]
    assert raw[APPLIED_FIELD] == ["e-1"] and raw["count"] == 1


async def test_a_lost_race_is_decided_again_on_a_fresh_read(backend: Backend) -> None:
    await backend.a.change("c1", add(1))
    calls: list[int] = []

    def counting(current: Stored[Counter] | None) -> Change[Counter]:
        assert current is not None
        calls.append(current.version)
        return Change(replace(current.state, count=current.state.count + 10))

    async def other_replica_writes_first() -> None:
        backend.a.before_write = None
        await backend.b.change("c1", add(100))

    backend.a.before_write = other_replica_writes_first
    outcome = await backend.a.change("c1", counting)
    assert calls == [1, 2]
    assert outcome.stored == Stored("c1", Counter(count=111), 3)
    assert await backend.b.get("c1") == outcome.stored


async def test_a_race_lost_every_time_ends_in_a_typed_conflict(backend: Backend) -> None:
    await backend.a.change("c1", add(1))

    async def always_first() -> None:
        await backend.b.change("c1", add(1))

    backend.a.before_write = always_first
    with pytest.raises(StoreConflict):
        await backend.a.change("c1", add(1000))
    stored = await backend.b.get("c1")
    assert stored is not None and stored.state.count < 1000


async def test_two_replicas_creating_the_same_document_both_count(backend: Backend) -> None:
    async def b_creates_first() -> None:
        backend.a.before_write = None
        await backend.b.change("new", add(1), event_id="e-b")

    backend.a.before_write = b_creates_first
    await backend.a.change("new", add(1), event_id="e-a")
    stored = await backend.a.get("new")
    assert stored is not None and stored.state.count == 2 and stored.version == 2


async def test_many_concurrent_writers_lose_nothing_and_double_nothing(backend: Backend) -> None:
    async def deliver(store: AggregateStore[Counter], event_id: str) -> None:
        for _ in range(20):  # as a consumer redelivers a batch that ended in StoreConflict
            try:
                await store.change("hot", add(1), event_id=event_id)
                return
            except StoreConflict:
                continue
        raise AssertionError(f"{event_id} was never applied")

    deliveries = [deliver(store, f"e-{i % 20}") for i, store in enumerate([backend.a, backend.b] * 15)]
    await asyncio.gather(*deliveries)  # 30 deliveries of 20 events: 10 of them delivered twice, concurrently
    stored = await backend.a.get("hot")
    assert stored is not None and stored.state.count == 20


async def test_a_batch_chains_events_of_one_document_and_skips_duplicates(backend: Backend) -> None:
    await backend.a.change("x", add(1, seen="e-0"), event_id="e-0")
    outcomes = await backend.a.change_many([
        Item("x", add(1, seen="e-1"), "e-1"), Item("y", add(5, seen="e-2"), "e-2"),
        Item("x", add(1, seen="e-3"), "e-3"), Item("x", add(1, seen="e-0"), "e-0"),
    ])
    assert [o.changed for o in outcomes] == [True, True, True, False] and outcomes[3].duplicate
    assert outcomes[2].stored is not None and outcomes[2].stored.state.count == 3
    x, y = await backend.b.get("x"), await backend.b.get("y")
    assert x == Stored("x", Counter(count=3, seen=("e-0", "e-1", "e-3")), 2)  # one write for the batch
    assert y == Stored("y", Counter(count=5, seen=("e-2",)), 1)


async def test_a_batch_decodes_each_document_once_and_encodes_it_once(backend: Backend) -> None:
    """Each decision sees the state the one before it answered; the codec runs once per document each way."""
    await backend.a.change("x", add(1))
    calls: list[tuple[str, str]] = []
    codec = backend.a.codec

    class Counting:
        def encode(self, state: Counter) -> dict[str, Any]:
            calls.append(("encode", state.seen[-1] if state.seen else ""))
            return codec.encode(state)

        def decode(self, doc: Mapping[str, Any]) -> Counter:
            calls.append(("decode", ",".join(doc.get("seen", ()))))
            return codec.decode(doc)

    backend.a.codec = Counting()
    try:
        outcomes = await backend.a.change_many([Item(doc_id, add(1, seen=f"e-{n}"), f"e-{n}")
                                                for n, doc_id in enumerate(["x", "new", "x", "new", "x"])])
    finally:
        backend.a.codec = codec
    assert [o.stored.state.count for o in outcomes if o.stored] == [2, 1, 3, 2, 4]
    assert sorted(calls) == [("decode", ""), ("encode", "e-3"), ("encode", "e-4")]  # "new" is never decoded
    assert (await backend.b.get("x")) == Stored("x", Counter(count=4, seen=("e-0", "e-2", "e-4")), 2)
    assert (await backend.b.get("new")) == Stored("new", Counter(count=2, seen=("e-1", "e-3")), 1)


async def test_a_document_written_before_the_store_is_taken_over(backend: Backend) -> None:
    await backend.put_raw({"_id": "legacy", "count": 7, "seen": [], "status": "open", "tags": {}, "_v": 42})
    outcome = await backend.a.change("legacy", add(1))
    assert outcome.stored == Stored("legacy", Counter(count=8), 1)
    assert (await backend.b.get("legacy")) == outcome.stored


async def test_fields_the_new_state_drops_are_removed(backend: Backend) -> None:
    await backend.a.change("c1", lambda _: Change(Counter(label="first", tags={"a": 1})))
    await backend.a.change("c1", lambda current: Change(replace(current.state, label=None, tags={})))
    raw = await backend.raw("c1")
    assert raw is not None and "label" not in raw and raw["tags"] == {}


async def test_only_the_last_256_applied_event_ids_are_kept(backend: Backend) -> None:
    await backend.a.change_many([Item("c1", add(1), f"e-{i}") for i in range(300)])
    raw = await backend.raw("c1")
    assert raw is not None and raw[APPLIED_FIELD] == [f"e-{i}" for i in range(44, 300)] and raw["count"] == 300


async def test_an_oversized_event_is_refused_before_anything_is_stored(backend: Backend) -> None:
    big = ack("al-1", note="y" * 20)
    huge = dataclasses.replace(big, data=big.data.model_copy(update={"rule_id": "r" * 600_000}))
    with pytest.raises(EventTooLarge) as refused:
        await backend.a.change("c1", add(1, events=lambda: [huge]))
    assert refused.value.extensions["field"] == "rule_id"
    assert await backend.a.get("c1") is None


async def test_change_first_takes_the_first_candidate_left(backend: Backend) -> None:
    for doc_id, count in (("p1", 3), ("p2", 1), ("p3", 2)):
        await backend.a.change(doc_id, add(count))
    await backend.a.change("done", lambda _: Change(Counter(count=0, status="closed")))

    def claim(current: Stored[Counter] | None) -> Change[Counter] | None:
        if current is None or current.state.status != "open":
            return None
        return Change(replace(current.state, status="claimed"))

    async def b_claims_the_head() -> None:
        backend.a.before_write = None
        await backend.b.change("p2", claim)

    backend.a.before_write = b_claims_the_head
    taken = await backend.a.change_first({"status": "open"}, [("count", 1)], claim)
    assert taken is not None and taken.stored is not None and taken.stored.id == "p3"
    left = await backend.a.change_first({"status": "open", "count": {"$gte": 1}}, [("count", 1)], claim)
    assert left is not None and left.stored is not None and left.stored.id == "p1"
    assert await backend.a.change_first({"status": "open"}, [("count", 1)], claim) is None


async def test_purge_deletes_only_matching_documents_with_nothing_waiting(backend: Backend) -> None:
    closed = lambda events: lambda _: Change(Counter(count=1, status="closed"), events())  # noqa: E731
    for doc_id in ("d1", "d2", "d3"):
        await backend.a.change(doc_id, closed(list))
    await backend.a.change("waiting", closed(lambda: [ack("al-w")]))   # its event is not published yet
    await backend.a.change("open", add(1))
    first = await backend.a.purge({"status": "closed"}, limit=2)
    assert len(first) == 2 and set(first) <= {"d1", "d2", "d3"}
    assert await backend.b.purge({"status": "closed"}, limit=10) == sorted({"d1", "d2", "d3"} - set(first))
    assert await backend.a.purge({"status": "closed"}, limit=10) == []
    assert await backend.a.get("waiting") is not None and await backend.a.get("open") is not None
    assert all([await backend.a.get(doc_id) is None for doc_id in ("d1", "d2", "d3")])


async def test_purge_hands_the_ids_over_before_deleting_them(backend: Backend) -> None:
    closed = lambda events: lambda _: Change(Counter(count=1, status="closed"), events())  # noqa: E731
    await backend.a.change("d1", closed(list))
    await backend.a.change("waiting", closed(lambda: [ack("al-w")]))   # never handed over: it stays
    seen: list[list[Any]] = []

    async def still_there(ids: list[Any]) -> None:
        seen.append(list(ids))
        assert [await backend.b.get(doc_id) is not None for doc_id in ids] == [True] * len(ids)

    assert await backend.a.purge({"status": "closed"}, limit=10, before_delete=still_there) == ["d1"]
    assert seen == [["d1"]] and await backend.a.get("d1") is None


def _claim_for(agent: str, refuse_label: str | None = None) -> Callable[[Stored[Counter] | None], Change[Counter] | None]:
    def claim(current: Stored[Counter] | None) -> Change[Counter] | None:
        if current is None or current.state.status != "open" or (refuse_label and current.state.label == refuse_label):
            return None
        return Change(replace(current.state, status="claimed:" + agent))

    return claim


async def test_shared_reads_give_concurrent_callers_the_first_candidates_each_once(backend: Backend) -> None:
    for rank in range(12):
        await backend.a.change(f"q{rank:02d}", add(rank))
    reads = 0
    find = backend.a._find

    async def counting_find(*args: Any) -> list[dict[str, Any]]:
        nonlocal reads
        reads += 1
        return await find(*args)

    backend.a._find = counting_find  # type: ignore[method-assign]
    outcomes = await asyncio.gather(*(backend.a.change_first({"status": "open"}, [("count", 1)], _claim_for(f"ag{i}"),
                                                             share="next") for i in range(8)))
    taken = sorted(o.stored.id for o in outcomes if o is not None and o.stored is not None)
    assert taken == [f"q{rank:02d}" for rank in range(8)]  # the first eight in order, each once
    assert reads < 8  # the callers waiting together were served by shared reads
    owners = {(await backend.a.get(doc_id)).state.status for doc_id in taken}  # type: ignore[union-attr]
    assert owners == {f"claimed:ag{i}" for i in range(8)}


async def test_a_candidate_one_caller_refuses_stays_for_another_of_the_same_read(backend: Backend) -> None:
    await backend.a.change("skilled", lambda _: Change(Counter(count=0, label="needs-x")))
    await backend.a.change("plain", add(1))
    without_x, with_x = await asyncio.gather(
        backend.a.change_first({"status": "open"}, [("count", 1)], _claim_for("no-x", refuse_label="needs-x"),
                               share="next"),
        backend.a.change_first({"status": "open"}, [("count", 1)], _claim_for("has-x"), share="next"))
    assert without_x is not None and without_x.stored is not None and without_x.stored.id == "plain"
    assert with_x is not None and with_x.stored is not None and with_x.stored.id == "skilled"


async def test_a_caller_refusing_every_first_candidate_reads_further(backend: Backend) -> None:
    for rank in range(40):
        await backend.a.change(f"s{rank:02d}", lambda _, r=rank: Change(Counter(count=r, label="needs-x")))
    await backend.a.change("last", add(99))
    got = await backend.a.change_first({"status": "open"}, [("count", 1)], _claim_for("no-x", refuse_label="needs-x"),
                                       share="next")
    assert got is not None and got.stored is not None and got.stored.id == "last"
    assert await backend.a.change_first({"status": "open"}, [("count", 1)],
                                        _claim_for("no-x", refuse_label="needs-x"), share="next") is None


async def test_a_caller_is_never_served_by_a_read_that_began_before_it_asked(backend: Backend) -> None:
    await backend.a.change("old", add(5))
    find, release = backend.a._find, asyncio.Event()

    async def slow_find(*args: Any) -> list[dict[str, Any]]:
        found = await find(*args)
        await release.wait()
        return found

    backend.a._find = slow_find  # type: ignore[method-assign]
    first = asyncio.create_task(backend.a.change_first({"status": "open"}, [("count", 1)], _claim_for("one"),
                                                       share="next"))
    await asyncio.sleep(0.05)  # the first read is under way (and has already seen its documents)
    await backend.b.change("urgent", add(0))  # queued meanwhile, ahead of "old" in the order
    second = asyncio.create_task(backend.a.change_first({"status": "open"}, [("count", 1)], _claim_for("two"),
                                                        share="next"))
    await asyncio.sleep(0.05)
    release.set()
    one, two = await first, await second
    assert one is not None and one.stored is not None and one.stored.id == "old"
    assert two is not None and two.stored is not None and two.stored.id == "urgent"


async def test_a_candidate_written_after_a_later_read_began_is_not_written_again(backend: Backend) -> None:
    """Rounds overlap: a caller of a later read must not try a candidate an earlier caller wrote meanwhile
    (its read version is stale, the write could only lose)."""
    for rank in range(4):
        await backend.a.change(f"c{rank}", add(rank))
    find, write = backend.a._find, backend.a._write
    finds, lost = 0, 0
    first_writing, let_write, let_read = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def held_second_find(*args: Any) -> list[dict[str, Any]]:
        nonlocal finds
        finds += 1
        found = await find(*args)
        if finds == 2:
            await let_read.wait()  # the second read has seen c0 queued; its answer arrives late
        return found

    async def counting_write(writes: Any) -> set[Any]:
        nonlocal lost
        result = await write(writes)
        lost += len(result)
        return result

    async def hold_first_write() -> None:
        if not first_writing.is_set():
            first_writing.set()
            await let_write.wait()

    backend.a._find, backend.a._write = held_second_find, counting_write  # type: ignore[method-assign]
    backend.a.before_write = hold_first_write
    one = asyncio.create_task(backend.a.change_first({"status": "open"}, [("count", 1)], _claim_for("one"),
                                                     share="next"))
    await first_writing.wait()
    two = asyncio.create_task(backend.a.change_first({"status": "open"}, [("count", 1)], _claim_for("two"),
                                                     share="next"))
    while finds < 2:
        await asyncio.sleep(0.01)
    let_write.set()
    got_one = await one
    let_read.set()
    got_two = await two
    assert got_one is not None and got_one.stored is not None and got_one.stored.id == "c0"
    assert got_two is not None and got_two.stored is not None and got_two.stored.id == "c1"
    assert lost == 0  # c0 as the second read saw it was known to be stale


async def test_callers_changing_one_hot_document_together_each_count_once(backend: Backend) -> None:
    writes = 0
    write = backend.a._write

    async def counting_write(*args: Any) -> set[Any]:
        nonlocal writes
        writes += 1
        return await write(*args)

    backend.a._write = counting_write  # type: ignore[method-assign]

    def bump_up_to(limit: int) -> Callable[[Stored[Counter] | None], Change[Counter]]:
        def decide(current: Stored[Counter] | None) -> Change[Counter]:
            state = current.state if current else Counter()
            if state.count >= limit:
                raise ValueError("over the limit")
            return Change(replace(state, count=state.count + 1))
        return decide

    results = await asyncio.gather(*(backend.a.change_together("hot", bump_up_to(30)) for _ in range(40)),
                                   return_exceptions=True)
    refused = [r for r in results if isinstance(r, ValueError)]
    assert len(refused) == 10 and all(str(r) == "over the limit" for r in refused)
    assert [r.stored.state.count for r in results if not isinstance(r, BaseException)] == list(range(1, 31))
    stored = await backend.a.get("hot")
    assert stored is not None and stored.state.count == 30
    assert writes < 40  # the callers waiting together were saved in shared writes


async def test_a_narrow_read_checks_the_rest_of_the_filter_here(backend: Backend) -> None:
    for rank in range(30):  # open but outside the caller's filter (count below 5 is "not yet workable")
        await backend.a.change(f"early{rank:02d}", lambda _: Change(Counter(count=1)))
    await backend.a.change("done", lambda _: Change(Counter(count=9, status="closed")))
    await backend.a.change("ready", add(7))
    wanted = {"status": "open", "count": {"$gte": 5}}
    got = await backend.a.change_first(wanted, [("count", 1), ("_id", 1)], _claim_for("one"), share="narrow",
                                       narrow={"status": "open"}, candidates=4)
    assert got is not None and got.stored is not None and got.stored.id == "ready"
    assert await backend.a.change_first(wanted, [("count", 1)], _claim_for("two"), narrow={"status": "open"},
                                        candidates=4) is None
    early = await backend.a.get("early00")
    assert early is not None and early.state.status == "open"  # what the filter excludes is never changed


async def test_count_by_counts_per_key_combination_and_per_list_element(backend: Backend) -> None:
    for doc_id, status, label, seen in [("c1", "open", "x", ("a", "b")), ("c2", "open", "x", ("a",)),
                                        ("c3", "open", None, ()), ("c4", "done", "x", ("b",))]:
        await backend.a.change(doc_id, lambda _, s=status, lb=label, se=seen: Change(
            Counter(status=s, label=lb, seen=se)))
    assert await backend.a.count_by({"status": "open"}, ["status", "label"]) == {("open", "x"): 2,
                                                                                 ("open", None): 1}
    assert await backend.b.count_by({}, ["seen"], unwind="seen") == {("a",): 2, ("b",): 2}
    assert await backend.a.count_by({"status": "gone"}, ["label"]) == {}


def _counting_finds(store: AggregateStore[Counter]) -> list[int]:
    reads = [0]
    find = store._find

    async def counting_find(*args: Any) -> list[dict[str, Any]]:
        reads[0] += 1
        return await find(*args)

    store._find = counting_find  # type: ignore[method-assign]
    return reads


async def _next_of(store: AggregateStore[Counter], agent: str) -> str | None:
    got = await store.change_first(OPEN, [("count", 1), ("_id", 1)], _claim_for(agent), share="next", narrow=OPEN)
    return got.stored.id if got is not None and got.stored is not None else None


async def test_a_marked_queue_serves_later_callers_from_its_head_while_nothing_enters(backend: Backend) -> None:
    one = backend.marked()
    for rank in range(12):
        await one.change(f"q{rank:02d}", add(rank))
    reads = _counting_finds(one)
    taken = [await _next_of(one, f"ag{n}") for n in range(8)]
    assert taken == [f"q{rank:02d}" for rank in range(8)]  # one after the other, in order, each once
    assert reads == [1]  # claims leave the queue without raising its mark: the first read served them all
    owners = [(await one.get(doc_id)).state.status for doc_id in taken]  # type: ignore[union-attr]
    assert owners == [f"claimed:ag{n}" for n in range(8)]


async def test_what_enters_a_marked_queue_anywhere_is_seen_by_the_next_caller(backend: Backend) -> None:
    one, other = backend.marked(), backend.marked()  # two replicas
    for rank in (5, 6, 7, 8):
        await one.change(f"p{rank}", add(rank))
    reads = _counting_finds(one)
    assert await _next_of(one, "ag1") == "p5"
    await other.change("urgent", add(0))  # a new document in the queue, ahead of the head
    assert await _next_of(one, "ag2") == "urgent"
    await other.change("p8", add(-7))  # a queued document changed so that it moves ahead
    assert await _next_of(one, "ag3") == "p8"
    await backend.put_raw({"_id": "raw", "count": 0, "status": "open"})  # written past the store...
    await other.raise_mark()  # ...and announced, as its writer must
    assert await _next_of(one, "ag4") == "raw"
    assert await _next_of(one, "ag5") == "p6"
    assert reads == [4]  # a read per change of the queue, none for the last claim


async def test_a_candidate_of_a_head_taken_by_another_writer_costs_a_write_and_the_head(backend: Backend) -> None:
    one, other = backend.marked(), backend.marked()
    for rank in (1, 2, 3, 4):
        await one.change(f"h{rank}", add(rank))
    reads = _counting_finds(one)
    assert await _next_of(one, "ag1") == "h1"
    assert await other.change("h2", _claim_for("elsewhere"))  # a claim leaves the queue: no mark raised
    assert await _next_of(one, "ag2") == "h3"  # h2 lost its race (the version guard), the next one won
    assert reads == [1]
    assert await _next_of(one, "ag3") == "h4"  # the head was dropped after the lost race: read again
    assert reads == [2]
    assert [(await one.get(f"h{rank}")).state.status for rank in (1, 2, 3, 4)] == [  # type: ignore[union-attr]
        "claimed:ag1", "claimed:elsewhere", "claimed:ag2", "claimed:ag3"]
    assert await _next_of(one, "ag4") is None


async def test_replicas_draining_one_queue_together_never_give_up_while_others_take_items(backend: Backend) -> None:
    """Three replicas with several callers each drain one marked queue whose writes are slow (a loaded server):
    every caller walks the same head, so most writes lose to another replica's or wait for a sibling's. Losing
    to a writer that took the item is progress, not failure: no caller may end in a conflict while items are
    being taken, and every item has one owner."""
    replicas = [backend.marked() for _ in range(3)]
    for rank in range(60):
        await replicas[0].change(f"d{rank:02d}", add(rank % 7))
    rng = random.Random(7)
    for store in replicas:
        write = store._write

        async def slow_write(writes: Any, write: Any = write) -> set[Any]:
            await asyncio.sleep(rng.uniform(0, 0.02))
            return await write(writes)

        store._write = slow_write  # type: ignore[method-assign]

    async def drain(store: AggregateStore[Counter], agent: str) -> list[str]:
        mine = []
        while (doc_id := await _next_of(store, agent)) is not None:
            mine.append(doc_id)
        return mine

    taken = await asyncio.gather(*(drain(replicas[n % 3], f"ag{n}") for n in range(12)))
    every = [doc_id for mine in taken for doc_id in mine]
    assert sorted(every) == [f"d{rank:02d}" for rank in range(60)]  # each item once, none left


async def test_none_in_a_condition_stands_for_a_missing_field_too_as_on_mongodb(backend: Backend) -> None:
    await backend.put_raw({"_id": "absent", "count": 0, "status": "open"})
    await backend.put_raw({"_id": "null", "count": 1, "status": "open", "label": None})
    await backend.a.change("x", lambda _: Change(Counter(count=2, label="x")))
    await backend.a.change("y", lambda _: Change(Counter(count=3, label="y")))

    async def ids(filter: dict[str, Any]) -> list[str]:
        return sorted(stored.id for stored in await backend.a.find(filter))

    assert await ids({"label": {"$in": [None, "x"]}}) == ["absent", "null", "x"]
    assert await ids({"label": None}) == await ids({"label": {"$eq": None}}) == ["absent", "null"]
    assert await ids({"label": {"$ne": None}}) == ["x", "y"]
    assert await ids({"label": {"$nin": [None, "x"]}}) == ["y"]


async def test_callers_whose_narrow_lies_within_the_marked_queue_are_served_from_its_head(backend: Backend) -> None:
    """A narrow that adds the callers' own conditions (their skills) to the queue's equality: the database reads
    only what they can serve, and the head of each share key serves them while the mark is unchanged."""
    one, other = backend.marked(), backend.marked()
    for rank in range(12):
        await one.change(f"q{rank:02d}", lambda _, r=rank: Change(Counter(count=r, label="needs-x" if r % 2 else None)))
    reads = _counting_finds(one)

    async def next_for(narrow: dict[str, Any], share: str, agent: str) -> str | None:
        got = await one.change_first(narrow, [("count", 1), ("_id", 1)], _claim_for(agent), share=share, narrow=narrow)
        return got.stored.id if got is not None and got.stored is not None else None

    plain, skilled, nobody = {**OPEN, "label": None}, {**OPEN, "label": {"$in": [None, "needs-x"]}}, {**OPEN, "label": "z"}
    assert [await next_for(plain, "plain", f"p{n}") for n in range(3)] == ["q00", "q02", "q04"]
    assert reads == [1]  # one read served the three, none of the items the plain callers cannot serve in it
    assert [await next_for(skilled, "skilled", f"s{n}") for n in range(2)] == ["q01", "q03"]
    assert reads == [2]
    await other.change("urgent", lambda _: Change(Counter(count=-1)))  # enters the queue elsewhere
    assert await next_for(plain, "plain", "p3") == "urgent"  # seen at once, in the strict order
    assert await next_for(skilled, "skilled", "s2") == "q05"  # "urgent" went to p3, the next one it can serve
    assert reads == [4]
    assert await next_for(nobody, "nobody", "n1") is None and await next_for(nobody, "nobody", "n2") is None
    assert reads == [5]  # a whole-queue head that holds nothing for them answers the second caller
