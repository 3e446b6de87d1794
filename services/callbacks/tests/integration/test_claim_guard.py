"""The claim of a taken entry is guarded by ``{_id, version}`` alone (answered from an index): these tests fail if
that guard ever admitted a claim the full one (queued, window open, same version) would refuse.

A second ``WorkItems`` on the module's database plays another replica of the service, so that a test can
take an entry, change the item behind it and only then claim. Own profiles with very high priorities keep
this module's items ahead of requests other test modules put on the shared request topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from icsuite_chassis.mongo import create_mongo_client
from icsuite_chassis.testing import eventually, unique

from icsuite_callbacks.repository import WorkItems

pytestmark = [pytest.mark.integration]
CLAIMABLE = "callbacks_claimable"


@pytest_asyncio.fixture
async def db(kit) -> AsyncIterator:
    client = create_mongo_client(kit.stack.mongodb_uri, app_name="test-claim-guard")
    try:
        yield client[kit.settings.mongodb_database]
    finally:
        await client.close()


async def _profile(kit, priority: int) -> str:
    code = unique("guard").replace("-", "_")
    body = {"priority": priority, "max_attempts": 3, "retry_delay_seconds": 1}
    assert (await kit.client.put(f"/v1/reason-profiles/{code}", json=body, headers=kit.admin)).status_code == 201
    return code


def _clock(at: datetime | None = None) -> Callable[[], datetime]:
    return lambda: at or datetime.now(UTC)


async def _claim(replica: WorkItems, taken, agent_id: str):
    return await replica.claim_taken(taken, agent_id, taken.taken_at, [])


async def test_an_item_changed_after_its_entry_was_taken_is_not_claimed(kit, db) -> None:
    replica = WorkItems(db)
    callback_id = await kit.request(reason_code=await _profile(kit, 995))
    taken = await replica.take_claimable(_clock())
    assert taken is not None and taken.callback_id == callback_id and taken.version == 1
    # meanwhile an agent claims it by id and releases it: queued again, but at version 3 with an entry of its own
    assert (await kit.act(callback_id, "claim", kit.agent("g-1"))).status_code == 200
    assert await _claim(replica, taken, "g-2") is None                         # claimed by g-1 now
    assert (await kit.act(callback_id, "release", kit.agent("g-1"))).status_code == 200
    assert (await kit.get(callback_id))["status"] == "queued"
    assert await _claim(replica, taken, "g-2") is None                         # queued, but not as taken
    item = await kit.get(callback_id)
    assert item["status"] == "queued" and item.get("agent_id") is None
    entry = await db[CLAIMABLE].find_one({"_id": callback_id})
    assert entry["version"] == 3                                               # its own entry is the live one
    again = await replica.take_claimable(_clock())
    assert again is not None and (again.callback_id, again.version) == (callback_id, 3)
    claimed = await _claim(replica, again, "g-3")
    assert claimed is not None and claimed.owner == "g-3" and claimed.version == 4


async def test_one_entry_taken_by_two_replicas_gives_one_owner(kit, db) -> None:
    first, second = WorkItems(db), WorkItems(db)
    callback_id = await kit.request(reason_code=await _profile(kit, 996))
    taken = await first.take_claimable(_clock())
    assert taken is not None and taken.callback_id == callback_id
    # the entry stays until a claim has used it: another replica's view hands it out as well
    twin = await second.take_claimable(_clock())
    assert twin is not None and (twin.callback_id, twin.version) == (callback_id, taken.version)
    results = await asyncio.gather(_claim(first, taken, "g-4"), _claim(second, twin, "g-5"))
    owners = [r.owner for r in results if r is not None]
    assert len(owners) == 1
    assert (await kit.get(callback_id))["agent_id"] == owners[0]

    async def removed() -> bool:
        return await db[CLAIMABLE].find_one({"_id": callback_id}) is None

    await eventually(removed, timeout=5)


async def test_two_replicas_racing_for_the_same_entries_give_each_item_one_owner(kit, db) -> None:
    code = await _profile(kit, 997)
    created = set(await asyncio.gather(*(kit.request(reason_code=code) for _ in range(20))))
    replicas = [WorkItems(db), WorkItems(db)]

    async def agent(replica: WorkItems, agent_id: str) -> list[str]:
        mine = []
        while (taken := await replica.take_claimable(_clock())) is not None:
            if taken.callback_id in created and (item := await _claim(replica, taken, agent_id)) is not None:
                mine.append(item.callback_id)
            elif taken.callback_id not in created:
                await replica.reoffer(taken.callback_id)   # another module's request: leave it
                break
        return mine

    results = await asyncio.gather(*(agent(replicas[n % 2], f"g-r{n}") for n in range(10)))
    every = [c for mine in results for c in mine]
    assert len(every) == len(set(every)) and set(every) == created


async def test_an_entry_that_expired_after_the_view_was_read_is_not_taken(kit, db) -> None:
    replica = WorkItems(db)
    code = await _profile(kit, 998)
    now = datetime.now(UTC)
    soon = await kit.request(reason_code=code, preferred_to=(now + timedelta(minutes=20)).isoformat())
    later = await kit.request(reason_code=code, preferred_to=(now + timedelta(minutes=40)).isoformat())
    expiry = (await db[CLAIMABLE].find_one({"_id": later}))["expires_at"]
    first = await replica.take_claimable(_clock())        # reads the view: both, ``soon`` first (due earlier)
    assert first is not None and first.callback_id == soon
    # ``later`` is next in this replica's view, read before it expired: the take checks its window
    past = await replica.take_claimable(_clock(expiry + timedelta(seconds=1)))
    assert past is None or past.callback_id not in {soon, later}
    assert (await db[CLAIMABLE].find_one({"_id": later}))["version"] == 1   # left in place
    for entry in (first, past):
        if entry is not None:
            await replica.reoffer(entry.callback_id)
    for callback_id in (soon, later):   # out of the way of the next test
        assert (await kit.act(callback_id, "claim", kit.agent("g-6"))).status_code == 200


async def test_a_more_urgent_entry_offered_by_another_replica_is_taken_first(kit, db) -> None:
    replica = WorkItems(db)
    code = await _profile(kit, 990)
    first, second = await kit.request(reason_code=code), await kit.request(reason_code=code)
    taken = await replica.take_claimable(_clock())          # this replica's view now holds ``second``
    assert taken is not None and taken.callback_id == first
    urgent = await kit.request(reason_code=await _profile(kit, 994))   # offered by the service process
    ahead = await replica.take_claimable(_clock())
    assert ahead is not None and ahead.callback_id == urgent
    for entry in (taken, ahead):
        await replica.reoffer(entry.callback_id)
    assert {(await kit.get(c))["status"] for c in (first, second, urgent)} == {"queued"}
