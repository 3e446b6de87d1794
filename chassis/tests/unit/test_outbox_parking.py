"""Which failed sends count towards parking an outbox entry: an outage parks nothing."""

import pytest
from aiokafka.errors import KafkaConnectionError, LeaderNotAvailableError

from icsuite_chassis.outbox_parking import ParkingLot, is_transient

pytestmark = pytest.mark.unit


class _Collection:
    def __init__(self):
        self.updates = []

    async def update_one(self, filter, update, upsert=False):
        self.updates.append((filter, update))


class _Db(dict):
    def __missing__(self, name):
        self[name] = _Collection()
        return self[name]


ENTRY = {"id": "e-1", "type": "ic.interaction.note-added.v1", "topic": "ic.interactions.v1"}


async def test_an_error_of_the_entry_parks_it_after_max_attempts() -> None:
    db = _Db()
    lot = ParkingLot(db, max_attempts=3)
    results = [await lot.failed("records", "r-1", ENTRY, ValueError("too large")) for _ in range(3)]
    assert results == [False, False, True]
    assert db["outbox_parked"].updates[0][0] == {"_id": "e-1"}
    counted = {"_id": "r-1", "_outbox.id": "e-1"}
    assert db["records"].updates == [(counted, {"$set": {"_outbox.$.attempts": 1}}),
                                      (counted, {"$set": {"_outbox.$.attempts": 2}}),
                                      ({"_id": "r-1"}, {"$pull": {"_outbox": {"id": "e-1"}}})]


async def test_the_count_stored_with_the_entry_goes_on_after_a_restart() -> None:
    db = _Db()
    restarted = ParkingLot(db, max_attempts=3)  # a new process: nothing counted in memory
    assert await restarted.failed("records", "r-1", {**ENTRY, "attempts": 2}, ValueError("too large"))
    assert db["outbox_parked"].updates[0][1]["$setOnInsert"]["attempts"] == 3
    outage = KafkaConnectionError("broker down")
    again = ParkingLot(_Db(), max_attempts=3)
    assert not await again.failed("records", "r-1", {**ENTRY, "attempts": 2}, outage)  # nothing acknowledged yet


async def test_an_outage_never_parks_an_entry() -> None:
    lot = ParkingLot(_Db(), max_attempts=3)
    outage = KafkaConnectionError("broker down")
    assert is_transient(outage)
    assert [await lot.failed("records", "r-1", ENTRY, outage) for _ in range(20)] == [False] * 20


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_transient_error_of_one_entry_counts_while_others_get_through_once_past_the_grace() -> None:
    clock = _Clock()
    lot = ParkingLot(_Db(), max_attempts=3, transient_grace_s=120, clock=clock)
    parked = []
    for n in range(7):
        clock.now += 30  # the first failure at 30 s, then failing for 30, 60, ..., 180 s
        lot.acknowledged("records", "r-2", [f"other-{n}"])
        parked.append(await lot.failed("records", "r-1", ENTRY, KafkaConnectionError("only this one")))
    assert parked == [False] * 6 + [True]  # counted from 120 s of failing on (120, 150, 180 s): 3 failures park


async def test_a_partition_without_a_leader_after_a_broker_restart_parks_nothing_while_others_get_through() -> None:
    # the leaders come back partition by partition: entries of the others are acknowledged meanwhile
    clock = _Clock()
    lot = ParkingLot(_Db(), max_attempts=3, transient_grace_s=120, clock=clock)
    no_leader = LeaderNotAvailableError()
    assert is_transient(no_leader)
    results = []
    for n in range(40):  # 40 failures over 100 s, each after an acknowledgement of another entry
        clock.now += 2.5
        lot.acknowledged("records", "r-2", [f"other-{n}"])
        results.append(await lot.failed("records", "r-1", ENTRY, no_leader))
    assert results == [False] * 40
    lot.acknowledged("records", "r-1", ["e-1"])  # the leader is back: the entry went out, the grace starts again
    clock.now += 200
    lot.acknowledged("records", "r-2", ["other"])
    assert not await lot.failed("records", "r-1", ENTRY, no_leader)


async def test_an_error_of_the_entry_itself_has_no_grace() -> None:
    lot = ParkingLot(_Db(), max_attempts=2, transient_grace_s=3600, clock=_Clock())
    assert [await lot.failed("records", "r-1", ENTRY, ValueError("too large")) for _ in range(2)] == [False, True]


async def test_an_acknowledged_entry_starts_counting_again() -> None:
    lot = ParkingLot(_Db(), max_attempts=2)
    assert not await lot.failed("records", "r-1", ENTRY, ValueError("x"))
    lot.acknowledged("records", "r-1", ["e-1"])
    assert not await lot.failed("records", "r-1", ENTRY, ValueError("x"))
