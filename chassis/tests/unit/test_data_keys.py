"""The key ring's round trips to the key vault (issue 22): a new account's key is found or created in one
store change (a read and a write, was five round trips), the keys of a relay batch in one change for all
accounts, and a key held in the cache never outlives the account's erasure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from icsuite_contracts.cloudevents import new_envelope, to_document
from icsuite_contracts.masterdata_v1 import AccountUpserted

from icsuite_chassis.data_keys import DATA_KEYS, DataKeyCodec, KeyNotLoaded, KeyRing, MasterKey
from icsuite_chassis.kafka import EventPublisher
from icsuite_chassis.store import InMemoryAggregateStore
from icsuite_chassis.store.core import Write

pytestmark = pytest.mark.unit


class CountingVault(InMemoryAggregateStore[Any]):
    """The in-memory vault, counting its round trips (reads and writes, as the Mongo store makes them)."""

    def __init__(self) -> None:
        super().__init__(DATA_KEYS, DataKeyCodec())
        self.reads = 0
        self.writes = 0

    async def _read(self, ids: Sequence[Any]) -> dict[Any, dict[str, Any]]:
        self.reads += 1
        return await super()._read(ids)

    async def _write(self, writes: Sequence[Write]) -> set[Any]:
        self.writes += 1
        return await super()._write(writes)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def ring_on(vault: InMemoryAggregateStore[Any], clock: Clock | None = None) -> KeyRing:
    return KeyRing(vault, MasterKey(b"m" * 32), ttl_s=30.0, monotonic=clock or Clock())


async def test_a_new_accounts_key_costs_one_read_and_one_write_then_none() -> None:
    vault = CountingVault()
    ring = ring_on(vault)
    key = await ring.writing_key("acc-1")
    assert key is not None and (vault.reads, vault.writes) == (1, 1)
    assert await ring.writing_key("acc-1") == key
    assert (vault.reads, vault.writes) == (1, 1)
    assert await ring_on(vault).load("acc-1") == key  # what a reader finds is the key written with


async def test_an_existing_key_costs_one_read_and_a_racing_creator_gets_the_winners_key() -> None:
    vault = CountingVault()
    first = await ring_on(vault).writing_key("acc-1")
    vault.reads = vault.writes = 0
    assert await ring_on(vault).writing_key("acc-1") == first
    assert (vault.reads, vault.writes) == (1, 0)

    class LateVault(CountingVault):  # a second replica creates the key between this one's read and write
        async def _write(self, writes: Sequence[Write]) -> set[Any]:
            if not self.writes:
                await ring_on(self.shared_with()).writing_key("acc-2")  # type: ignore[arg-type]
            return await super()._write(writes)

    late = LateVault()
    mine = await ring_on(late).writing_key("acc-2")
    assert mine is not None and mine == await ring_on(late).load("acc-2")


async def test_the_keys_of_several_accounts_come_in_one_change_and_an_erased_one_stays_erased() -> None:
    vault = CountingVault()
    await ring_on(vault).erase("acc-gone")
    await ring_on(vault).writing_key("acc-old")
    vault.reads = vault.writes = 0
    ring = ring_on(vault)
    keys = await ring.writing_keys(["acc-new", "acc-old", "acc-gone", "acc-new"])
    assert (vault.reads, vault.writes) == (1, 1)
    assert keys["acc-gone"] is None and keys["acc-new"] is not None and keys["acc-old"] is not None
    assert (await vault.get("acc-gone")).state.erased  # type: ignore[union-attr]
    assert ring.cached("acc-new") == keys["acc-new"] and ring.cached("acc-gone") is None


async def test_a_cached_key_does_not_outlive_the_erasure() -> None:
    clock = Clock()
    vault = CountingVault()
    here, replica = ring_on(vault, clock), ring_on(vault, clock)
    assert await here.writing_key("acc-1") is not None
    assert await replica.writing_key("acc-1") is not None
    await here.erase("acc-1")
    assert await here.writing_key("acc-1") is None  # the process that erased: at once
    clock.now = 31.0  # another replica: once its cache entry is older than ttl_s
    with pytest.raises(KeyNotLoaded):
        replica.cached("acc-1")
    assert await replica.writing_key("acc-1") is None
    assert await replica.writing_keys(["acc-1"]) == {"acc-1": None}


async def test_the_publisher_prepares_the_keys_of_an_outbox_batch_at_once() -> None:
    vault = CountingVault()
    ring = ring_on(vault)
    entries = [to_document(new_envelope(AccountUpserted(account_id=f"acc-{i}", source_version=1, kind="person",
                                                        name="Erika Mustermann"), source="/test"))
               for i in range(3)]
    entries.append({**entries[0], "type": "ic.unknown.v1", "data": {"account_id": "acc-unknown"}})
    await EventPublisher(None, ring).prepare_documents(entries)  # type: ignore[arg-type]
    assert (vault.reads, vault.writes) == (1, 1)
    assert all(ring.cached(f"acc-{i}") is not None for i in range(3))
    assert len(await vault.get_many([f"acc-{i}" for i in range(3)])) == 3
    assert await vault.get("acc-unknown") is None  # no key for what is not sealed
