"""The one claim path on the real stack: claim-next and claim-by-id are the same domain decision written by the
store guarded by the item's version, so two replicas, a change between read and write, or a racing claim by id
never give an item a second owner or a second claimed event.

A second service object on the module's database plays another replica. Own profiles with very high
priorities keep this module's items ahead of requests other test modules put on the shared request topic.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from icsuite_chassis.mongo import create_mongo_client
from icsuite_chassis.store import MongoAggregateStore
from icsuite_chassis.testing import eventually, unique

from icsuite_callbacks import handlers
from icsuite_callbacks.domain import Actor
from icsuite_callbacks.domain import lifecycle as lc
from icsuite_callbacks.handlers import CallbacksService
from icsuite_callbacks.projections import Identifications
from icsuite_callbacks.repository import COLLECTION, PROFILES, QUEUED, SLOTS, ProfileCodec, SlotsCodec, WorkItemCodec

pytestmark = [pytest.mark.integration]
RETRY_S = 1.5


@pytest_asyncio.fixture
async def db(kit) -> AsyncIterator:
    client = create_mongo_client(kit.stack.mongodb_uri, app_name="test-claim-exactly-once")
    try:
        yield client[kit.settings.mongodb_database]
    finally:
        await client.close()


def replica(db) -> CallbacksService:
    return CallbacksService(items=MongoAggregateStore(db, COLLECTION, WorkItemCodec(), queue=QUEUED),
                            profiles=MongoAggregateStore(db, PROFILES, ProfileCodec()),
                            slots=MongoAggregateStore(db, SLOTS, SlotsCodec()),
                            identifications=Identifications.on_mongo(db))


async def _profile(kit, priority: int, **fields) -> str:
    code = unique("once").replace("-", "_")
    body = {"priority": priority, "max_attempts": 3, "retry_delay_seconds": RETRY_S, **fields}
    assert (await kit.client.put(f"/v1/reason-profiles/{code}", json=body, headers=kit.admin)).status_code == 201
    return code


async def _claim_next(kit, agent_id: str) -> str | None:
    response = await kit.client.post("/v1/callbacks/claim-next", headers=kit.agent(agent_id))
    if response.status_code == 204:
        return None
    assert response.status_code == 200, response.text
    assert response.json()["agent_id"] == agent_id and response.json()["status"] == "claimed"
    return str(response.json()["callback_id"])


async def _drain(kit, agent_id: str) -> list[str]:
    claimed = []
    while (callback_id := await _claim_next(kit, agent_id)) is not None:
        claimed.append(callback_id)
    return claimed


async def test_two_replicas_racing_for_the_same_items_give_each_item_one_owner(kit, db) -> None:
    code = await _profile(kit, 997)
    created = set(await asyncio.gather(*(kit.request(reason_code=code) for _ in range(30))))
    replicas = [replica(db), replica(db)]

    async def agent(svc: CallbacksService, agent_id: str) -> list[str]:
        mine = []
        while (item := await handlers.claim_next(svc, Actor(agent_id))) is not None:
            assert item.owner == agent_id
            mine.append(item.callback_id)
        return mine

    results = await asyncio.gather(*(agent(replicas[n % 2], f"r-{n}") for n in range(10)),
                                   _drain(kit, "r-gateway"))
    every = [c for mine in results for c in mine]
    assert Counter(every).most_common(1)[0][1] == 1 and created <= set(every)
    events = await kit.events(created, expect=2 * len(created), timeout=30)
    assert Counter(e["callback_id"] for e in events if e["type"] == "claimed") == Counter(created)


async def test_an_item_claimed_by_id_between_read_and_write_is_left_to_its_owner(kit, db) -> None:
    code = await _profile(kit, 996)
    first, second = await kit.request(reason_code=code), await kit.request(reason_code=code)
    svc = replica(db)

    async def meanwhile() -> None:   # after claim-next read its candidates, before it writes the first
        svc.items.before_write = None
        assert (await kit.act(first, "claim", kit.agent("g-1"))).status_code == 200

    svc.items.before_write = meanwhile
    item = await handlers.claim_next(svc, Actor("g-2"))
    assert item is not None and item.callback_id == second and item.owner == "g-2"
    assert (await kit.get(first))["agent_id"] == "g-1"
    events = await kit.events({first, second}, expect=4)
    assert sorted((e["callback_id"], e["agent_id"]) for e in events if e["type"] == "claimed") == sorted([
        (first, "g-1"), (second, "g-2")])


async def test_claim_next_and_a_claim_by_id_racing_for_one_item_give_one_owner(kit, db) -> None:
    callback_id = await kit.request(reason_code=await _profile(kit, 995))
    by_id = replica(db)
    results = await asyncio.gather(handlers.claim_next(replica(db), Actor("g-3")),
                                   handlers.claim(by_id, callback_id, lc.Claim(Actor("g-4"))),
                                   return_exceptions=True)
    owner = (await kit.get(callback_id))["agent_id"]
    assert owner in {"g-3", "g-4"}
    winners = [r for r in results if not isinstance(r, Exception) and r is not None and r.callback_id == callback_id
               and r.owner == owner]
    assert winners
    events = await kit.events({callback_id}, expect=2)
    assert [(e["type"], e.get("agent_id")) for e in events] == [("queued", None), ("claimed", owner)]


async def test_claimed_released_and_claimed_again_in_order(kit) -> None:
    callback_id = await kit.request(reason_code=await _profile(kit, 960))
    assert (await kit.act(callback_id, "claim", kit.agent("c-1"))).status_code == 200   # by id
    assert (await kit.act(callback_id, "release", kit.agent("c-1"))).status_code == 200
    assert await _claim_next(kit, "c-2") == callback_id
    assert (await kit.act(callback_id, "cancel", kit.agent("c-2"))).status_code == 200
    events = await kit.events({callback_id}, expect=5)
    assert [(e["type"], e.get("agent_id")) for e in events] == [
        ("queued", None), ("claimed", "c-1"), ("released", "c-1"), ("claimed", "c-2"), ("cancelled", None)]


async def test_a_more_urgent_item_queued_meanwhile_is_claimed_first(kit) -> None:
    code = await _profile(kit, 990)
    first = await kit.request(reason_code=code)
    assert await _claim_next(kit, "c-3") == first
    second = await kit.request(reason_code=code)
    urgent = await kit.request(reason_code=await _profile(kit, 994))
    assert await _claim_next(kit, "c-3") == urgent
    assert await _claim_next(kit, "c-3") == second


async def test_retry_delay_and_closed_window_are_invisible_to_claim_next(kit) -> None:
    code = await _profile(kit, 990)
    released = await kit.request(reason_code=code)
    assert await _claim_next(kit, "c-7") == released
    failed = await kit.act(released, "fail", kit.agent("c-7"), {"retain": False})
    assert failed.json()["status"] == "queued"
    now = datetime.now(UTC)
    scheduled = await kit.request(reason_code=code, preferred_from=(now + timedelta(seconds=2)).isoformat(),
                                  preferred_to=(now + timedelta(hours=2)).isoformat())
    assert (await kit.get(scheduled))["status"] == "scheduled"
    opens = {released: datetime.fromisoformat(failed.json()["visible_from"]), scheduled: now + timedelta(seconds=2)}
    seen: dict[str, datetime] = {}

    async def both_claimed() -> bool:
        while (callback_id := await _claim_next(kit, "c-9")) is not None:
            seen[callback_id] = datetime.now(UTC)    # the answer came back by now
        return set(opens) <= set(seen)

    await eventually(both_claimed, timeout=30)
    for callback_id, opened in opens.items():   # never handed out before its window (or retry delay) opened
        assert seen[callback_id] >= opened, (callback_id, seen[callback_id], opened)
