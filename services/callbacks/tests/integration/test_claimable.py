"""claim-next through the claimable entries: entries follow every transition into and out of the general
inbox; a lost entry (a crash between two writes) only delays its item until the repair job; a stale entry
never gives an item a second owner; retry delays and closed windows stay invisible to claim-next.

Own profiles with very high priorities keep this module's items ahead of requests other test modules put
on the shared request topic.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.testing import eventually, unique

pytestmark = [pytest.mark.integration]
RETRY_S = 1.5
CLAIMABLE = "callbacks_claimable"


async def _profile(kit, priority: int, **fields) -> str:
    code = unique("claimable").replace("-", "_")
    body = {"priority": priority, "max_attempts": 3, "retry_delay_seconds": RETRY_S, **fields}
    assert (await kit.client.put(f"/v1/reason-profiles/{code}", json=body, headers=kit.admin)).status_code == 201
    return code


def _entries(kit, mongo_client):
    return mongo_client[kit.settings.mongodb_database][CLAIMABLE]


async def _claim_next(kit, agent_id: str) -> str | None:
    response = await kit.client.post("/v1/callbacks/claim-next", headers=kit.agent(agent_id))
    if response.status_code == 204:
        return None
    assert response.status_code == 200, response.text
    assert response.json()["agent_id"] == agent_id and response.json()["status"] == "claimed"
    return str(response.json()["callback_id"])


async def _drain(kit, agent_id: str) -> list[str]:
    """claim-next until 204: everything workable now (this module's items and others')."""
    claimed = []
    while (callback_id := await _claim_next(kit, agent_id)) is not None:
        claimed.append(callback_id)
    return claimed


async def test_entries_follow_the_item_in_and_out_of_the_general_inbox(kit, mongo_client) -> None:
    entries = _entries(kit, mongo_client)
    callback_id = await kit.request(reason_code=await _profile(kit, 960))
    entry = await entries.find_one({"_id": callback_id})
    assert entry is not None and entry["priority"] == 960 and entry["version"] == 1
    assert (await kit.act(callback_id, "claim", kit.agent("c-1"))).status_code == 200   # by id
    assert await entries.find_one({"_id": callback_id}) is None
    assert (await kit.act(callback_id, "release", kit.agent("c-1"))).status_code == 200
    assert (await entries.find_one({"_id": callback_id}))["version"] == 3
    assert await _claim_next(kit, "c-2") == callback_id

    async def removed() -> bool:   # claim-next removes the entry it used right after the claim, in a batch
        return await entries.find_one({"_id": callback_id}) is None

    await eventually(removed, timeout=5)
    assert (await kit.act(callback_id, "cancel", kit.agent("c-2"))).status_code == 200
    assert await entries.find_one({"_id": callback_id}) is None
    events = await kit.events({callback_id}, expect=5)
    assert [(e["type"], e.get("agent_id")) for e in events] == [
        ("queued", None), ("claimed", "c-1"), ("released", "c-1"), ("claimed", "c-2"), ("cancelled", None)]


async def test_a_lost_entry_only_delays_the_item_until_the_repair(kit, mongo_client) -> None:
    callback_id = await kit.request(reason_code=await _profile(kit, 970))
    # a crash after claim-next took the entry and before it claimed the item (or before a transition
    # into the general inbox stored the entry): the item is queued without an entry
    assert (await _entries(kit, mongo_client).delete_one({"_id": callback_id})).deleted_count == 1
    assert callback_id not in await _drain(kit, "c-3")
    assert (await kit.get(callback_id))["status"] == "queued"

    async def claimed_again() -> bool:
        return await _claim_next(kit, "c-4") == callback_id

    await eventually(claimed_again, timeout=kit.settings.claimable_repair_s + 10)
    item = await kit.status_is(callback_id, "claimed")
    assert item["agent_id"] == "c-4"


async def test_a_stale_entry_never_gives_an_item_a_second_owner(kit, mongo_client) -> None:
    entries = _entries(kit, mongo_client)
    code = await _profile(kit, 980)
    owned, free = await kit.request(reason_code=code), await kit.request(reason_code=code)
    stale = await entries.find_one({"_id": owned})
    assert (await kit.act(owned, "claim", kit.agent("c-5"))).status_code == 200
    # the entry of an earlier version comes back (a repair that read the item before the claim), first in line
    await entries.insert_one({**stale, "priority": 999})
    assert await _claim_next(kit, "c-6") == free

    async def dropped() -> bool:   # when skipped (removed right after the failed guard, in a batch)
        return await entries.find_one({"_id": owned}) is None

    await eventually(dropped, timeout=5)
    assert (await kit.get(owned))["agent_id"] == "c-5"
    events = await kit.events({owned, free}, expect=4)
    assert sorted((e["callback_id"] == owned, e.get("agent_id")) for e in events if e["type"] == "claimed") == [
        (False, "c-6"), (True, "c-5")]


async def test_retry_delay_and_closed_window_are_invisible_to_claim_next(kit) -> None:
    code = await _profile(kit, 990)
    released = await kit.request(reason_code=code)
    assert await _claim_next(kit, "c-7") == released
    assert (await kit.act(released, "fail", kit.agent("c-7"), {"retain": False})).json()["status"] == "queued"
    now = datetime.now(UTC)
    scheduled = await kit.request(reason_code=code, preferred_from=(now + timedelta(seconds=2)).isoformat(),
                                  preferred_to=(now + timedelta(hours=2)).isoformat())
    assert (await kit.get(scheduled))["status"] == "scheduled"
    assert not {released, scheduled} & set(await _drain(kit, "c-8"))
    await asyncio.sleep(RETRY_S)

    async def both_claimed(got: set[str] = set()) -> bool:  # noqa: B006 - accumulates across calls
        got.update(await _drain(kit, "c-9"))
        return {released, scheduled} <= got

    await eventually(both_claimed, timeout=10)
