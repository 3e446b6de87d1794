"""50 agents call claim-next at once on 200 items through the gateway: each item is claimed exactly once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

pytestmark = [pytest.mark.integration]
AGENTS, ITEMS = 50, 200
SEED_SKILLS = ("grid", "billing", "collections")  # the skills of the seed profiles used here: every agent has all


async def test_fifty_agents_claim_two_hundred_items_each_exactly_once(kit, mongo_client) -> None:
    reasons = ["outage", "billing_question", "payment_arrangement", None]
    created = await asyncio.gather(*(kit.request(reason_code=reasons[i % 4]) for i in range(ITEMS)))
    assert len(set(created)) == ITEMS

    async def agent_loop(agent_id: str) -> list[str]:
        mine, headers = [], kit.agent(agent_id, *SEED_SKILLS)
        while True:
            response = await kit.client.post("/v1/callbacks/claim-next", headers=headers)
            if response.status_code == 204:
                return mine
            assert response.status_code == 200, response.text
            assert response.json()["agent_id"] == agent_id
            mine.append(response.json()["callback_id"])

    started = time.perf_counter()
    results = await asyncio.gather(*(agent_loop(f"agent-{n:02d}") for n in range(AGENTS)))
    elapsed = time.perf_counter() - started
    print(f"\n{ITEMS} items claimed by {AGENTS} concurrent agents in {elapsed:.2f} s: "
          f"{ITEMS / elapsed:.0f} claims/s; per agent min {min(map(len, results))}, max {max(map(len, results))}")

    every_claim = [callback_id for mine in results for callback_id in mine]
    assert Counter(every_claim).most_common(1)[0][1] == 1          # no item claimed twice
    assert set(created) <= set(every_claim)                         # every item claimed
    for mine in results:
        assert len(mine) == len(set(mine))                          # no agent got an item twice
    # (requests other test modules put on the shared request topic may be claimed too; they are not ours)

    owners = {agent: set(mine) for agent, mine in zip((f"agent-{n:02d}" for n in range(AGENTS)), results,
                                                      strict=True)}
    stored = mongo_client[kit.settings.mongodb_database]["callbacks"].find({"_id": {"$in": created}},
                                                                          {"status": 1, "owner": 1})
    async for doc in stored:
        assert doc["status"] == "claimed" and doc["_id"] in owners[doc["owner"]]

    events = await kit.events(set(created), expect=2 * ITEMS, timeout=40)
    claimed = Counter(e["callback_id"] for e in events if e["type"] == "claimed")
    assert len(claimed) == ITEMS and set(claimed.values()) == {1}   # one claimed event per item
