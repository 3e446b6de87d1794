"""claim-next gives the most urgent workable item (priority, then due time); the inboxes page in that order.

Own profiles with very high priorities keep this module's items ahead of requests other test modules put
on the shared request topic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = [pytest.mark.integration]


async def _profile(kit, code: str, priority: int) -> str:
    body = {"priority": priority, "sla_minutes": 600}
    response = await kit.client.put(f"/v1/reason-profiles/{code}", json=body, headers=kit.admin)
    assert response.status_code in (200, 201), response.text
    return code


async def test_claim_next_takes_by_priority_then_due_time_and_answers_204_when_empty(kit) -> None:
    high, mid, low = [await _profile(kit, c, p) for c, p in (("order_high", 903), ("order_mid", 902),
                                                               ("order_low", 901))]
    now = datetime.now(UTC)
    low_late = await kit.request(reason_code=low, preferred_to=(now + timedelta(hours=5)).isoformat())
    urgent = await kit.request(reason_code=high)
    low_soon = await kit.request(reason_code=low, preferred_to=(now + timedelta(minutes=30)).isoformat())
    middle = await kit.request(reason_code=mid)
    expected = [urgent, middle, low_soon, low_late]

    pages, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await kit.client.get("/v1/inbox", params=params, headers=kit.agent("a-1"))).json()
        pages.append([item["callback_id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages[0] == expected[:3] and pages[1][0] == expected[3]
    assert sum(len(page) for page in pages) == len({i for page in pages for i in page})  # no repeats

    claimed = []
    for agent_id in ("a-1", "a-2", "a-1", "a-2"):
        response = await kit.client.post("/v1/callbacks/claim-next", headers=kit.agent(agent_id))
        assert response.status_code == 200, response.text
        assert response.json()["agent_id"] == agent_id and response.json()["status"] == "claimed"
        claimed.append(response.json()["callback_id"])
    assert claimed == expected
    for _ in range(100):  # whatever else is workable, until the general inbox is empty
        if (await kit.client.post("/v1/callbacks/claim-next", headers=kit.agent("a-3"))).status_code == 204:
            break
    else:
        pytest.fail("claim-next never answered 204")

    inbox = (await kit.client.get("/v1/agents/a-1/inbox", headers=kit.agent("a-1"))).json()
    assert [item["callback_id"] for item in inbox["items"]] == [urgent, low_soon]
    events = await kit.events(set(expected), expect=8)
    claims = {e["callback_id"]: e["agent_id"] for e in events if e["type"] == "claimed"}
    assert claims == dict(zip(claimed, ["a-1", "a-2", "a-1", "a-2"], strict=True))


async def test_a_malformed_or_unsigned_cursor_answers_400_and_claim_next_needs_a_worker_role(kit) -> None:
    bad = await kit.client.get("/v1/inbox", params={"cursor": "not-a-cursor"}, headers=kit.agent("a-1"))
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    forged = await kit.client.get("/v1/inbox", params={"cursor": "eyJwIjoiMSIsImQiOjEsImkiOjF9"},
                                  headers=kit.agent("a-1"))
    assert forged.status_code == 400 and forged.json()["type"].endswith("/invalid-cursor")
    assert (await kit.client.post("/v1/callbacks/claim-next", headers=kit.channel)).status_code == 403
    assert (await kit.client.get("/v1/inbox", headers=kit.channel)).status_code == 403
