"""The work item lifecycle: claim, start, complete; retain versus release; retry delay; maximum attempts;
expiry; scheduled windows; cancellation; and who may do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.testing import eventually, unique

pytestmark = [pytest.mark.integration]
RETRY_S = 1.5


async def _profile(kit, **fields) -> str:
    code = unique("fast").replace("-", "_")
    body = {"priority": 2, "max_attempts": 2, "retry_delay_seconds": RETRY_S, **fields}
    assert (await kit.client.put(f"/v1/reason-profiles/{code}", json=body, headers=kit.admin)).status_code == 201
    return code


async def _claimed(kit, agent_id: str, *skills: str, **fields) -> str:
    callback_id = await kit.request(**fields)
    response = await kit.act(callback_id, "claim", kit.agent(agent_id, *skills))
    assert response.status_code == 200, response.text
    return callback_id


async def _inbox(kit, agent_id: str) -> list[str]:
    response = await kit.client.get(f"/v1/agents/{agent_id}/inbox", headers=kit.agent(agent_id))
    assert response.status_code == 200, response.text
    return [item["callback_id"] for item in response.json()["items"]]


async def _general(kit) -> list[str]:
    response = await kit.client.get("/v1/inbox", headers=kit.agent("any"), params={"limit": 200})
    return [item["callback_id"] for item in response.json()["items"]]


async def test_claim_start_complete_emit_every_transition_in_order(kit) -> None:
    number = kit.number()
    callback_id = await _claimed(kit, "a-1", "billing", callback_number=number, reason_code="billing_question")
    assert callback_id in await _inbox(kit, "a-1")
    started = await kit.act(callback_id, "start", kit.agent("a-1"))
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    assert started.json()["dial"] == {"number": number, "source": "requested", "note": None}
    done = await kit.act(callback_id, "complete", kit.agent("a-1"), {"outcome": "reached"})
    assert (done.json()["status"], done.json()["outcome"]) == ("completed", "reached")
    assert callback_id not in await _inbox(kit, "a-1")
    events = await kit.events({callback_id}, expect=4)
    assert [e["type"] for e in events] == ["queued", "claimed", "started", "completed"]
    assert events[2]["dial_number"] == number and events[2]["attempt"] == 1 and events[2]["agent_id"] == "a-1"
    assert len({e["id"] for e in events}) == 4


async def test_only_the_owner_or_a_supervisor_acts_on_a_claimed_item(kit) -> None:
    callback_id = await _claimed(kit, "a-1")
    other = kit.agent("a-2")
    for action, body in (("start", None), ("fail", {"retain": True}), ("release", None),
                         ("complete", {"outcome": "reached"}), ("cancel", None)):
        response = await kit.act(callback_id, action, other, body)
        assert response.status_code == 403, (action, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await kit.act(callback_id, "claim", other)).status_code == 409  # it has an owner already
    assert (await kit.client.get("/v1/agents/a-1/inbox", headers=other)).status_code == 403
    assert (await kit.client.get("/v1/agents/a-1/inbox", headers=kit.supervisor)).status_code == 200
    assert (await kit.act(callback_id, "start", kit.supervisor)).status_code == 200
    assert (await kit.act(callback_id, "complete", kit.agent("a-1"), {"outcome": "reached"})).status_code == 200
    assert (await kit.get(callback_id))["agent_id"] == "a-1"


async def test_actions_in_the_wrong_state_answer_409_and_unknown_ids_404(kit) -> None:
    callback_id = await kit.request()
    agent = kit.agent("a-3")
    assert (await kit.act(callback_id, "start", agent)).status_code == 409  # not claimed yet
    assert (await kit.act(callback_id, "complete", agent, {"outcome": "reached"})).status_code == 409
    assert (await kit.act(callback_id, "claim", agent)).status_code == 200
    assert (await kit.act(callback_id, "claim", agent)).status_code == 200  # claiming again changes nothing
    assert (await kit.act(callback_id, "complete", agent, {"outcome": "reached"})).status_code == 409
    assert (await kit.act(callback_id, "fail", agent, {"retain": "yes"})).status_code == 422
    assert (await kit.act(callback_id, "start", agent, {"dial": "somewhere"})).status_code == 422
    assert (await kit.act("cbr-does-not-exist", "claim", agent)).status_code == 404
    assert (await kit.client.get("/v1/callbacks/cbr-does-not-exist", headers=agent)).status_code == 404


async def test_retain_keeps_it_in_the_own_inbox_until_the_retry_delay_then_max_attempts_fail_it(kit) -> None:
    callback_id = await _claimed(kit, "a-4", reason_code=await _profile(kit, max_attempts=2))
    agent = kit.agent("a-4")
    assert (await kit.act(callback_id, "start", agent)).status_code == 200
    failed = await kit.act(callback_id, "fail", agent, {"retain": True, "reason": "no_answer"})
    assert (failed.json()["status"], failed.json()["agent_id"]) == ("claimed", "a-4")
    assert callback_id in await _inbox(kit, "a-4") and callback_id not in await _general(kit)
    too_early = await kit.act(callback_id, "start", agent)
    assert too_early.status_code == 409 and "before" in too_early.json()["detail"]
    second = await eventually(lambda: _started(kit, callback_id, agent), timeout=RETRY_S + 5)
    assert second["attempts"] == 2
    last = await kit.act(callback_id, "fail", agent, {"retain": True, "reason": "no_answer"})
    assert last.json()["status"] == "failed"
    events = await kit.events({callback_id}, expect=6)
    assert [e["type"] for e in events] == ["queued", "claimed", "started", "attempt-failed", "started",
                                           "attempt-failed"]
    assert [(e["retain"], e["final"]) for e in events if e["type"] == "attempt-failed"] == [(True, False),
                                                                                           (False, True)]


async def _started(kit, callback_id: str, who: dict) -> dict:
    response = await kit.act(callback_id, "start", who)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_release_puts_it_back_in_the_general_inbox_after_the_retry_delay(kit) -> None:
    callback_id = await _claimed(kit, "a-5", reason_code=await _profile(kit, max_attempts=3))
    assert (await kit.act(callback_id, "start", kit.agent("a-5"))).status_code == 200
    released = await kit.act(callback_id, "fail", kit.agent("a-5"), {"retain": False, "reason": "busy"})
    assert (released.json()["status"], released.json()["agent_id"]) == ("queued", None)
    assert callback_id not in await _inbox(kit, "a-5") and callback_id not in await _general(kit)
    assert (await kit.act(callback_id, "claim", kit.agent("a-6"))).status_code == 409  # retry delay
    await eventually(lambda: _in_general(kit, callback_id), timeout=RETRY_S + 5)
    assert (await kit.act(callback_id, "claim", kit.agent("a-6"))).status_code == 200
    events = await kit.events({callback_id}, expect=6)
    assert [e["type"] for e in events] == ["queued", "claimed", "started", "attempt-failed", "released",
                                           "claimed"]
    assert events[-1]["agent_id"] == "a-6"


async def _in_general(kit, callback_id: str) -> bool:
    return callback_id in await _general(kit)


async def test_release_without_an_attempt(kit) -> None:
    callback_id = await _claimed(kit, "a-7")
    response = await kit.act(callback_id, "release", kit.agent("a-7"))
    assert (response.json()["status"], response.json()["attempts"]) == ("queued", 0)
    assert callback_id in await _general(kit)


async def test_an_item_whose_window_passes_expires(kit) -> None:
    now = datetime.now(UTC)
    callback_id = await kit.request(preferred_to=(now + timedelta(seconds=1.5)).isoformat())
    retained = await kit.request(preferred_to=(now + timedelta(seconds=1.5)).isoformat())
    assert (await kit.act(retained, "claim", kit.agent("a-8"))).status_code == 200
    await eventually(lambda: kit.status_is(callback_id, "expired"), timeout=8)
    await eventually(lambda: kit.status_is(retained, "expired"), timeout=8)
    assert (await kit.act(callback_id, "claim", kit.agent("a-8"))).status_code == 409
    events = await kit.events({callback_id, retained}, expect=5)
    assert sorted(e["type"] for e in events) == ["claimed", "expired", "expired", "queued", "queued"]


async def test_a_scheduled_item_is_invisible_until_its_window_opens(kit) -> None:
    now = datetime.now(UTC)
    window = {"preferred_from": (now + timedelta(seconds=2)).isoformat(),
              "preferred_to": (now + timedelta(hours=2)).isoformat()}
    callback_id = await kit.request(**window)
    assert (await kit.get(callback_id))["status"] == "scheduled"
    assert callback_id not in await _general(kit)
    assert (await kit.act(callback_id, "claim", kit.agent("a-9"))).status_code == 409
    await eventually(lambda: kit.status_is(callback_id, "queued"), timeout=8)
    assert callback_id in await _general(kit)
    events = await kit.events({callback_id}, expect=2)
    assert [(e["type"], e["scheduled_for"] is not None) for e in events] == [("queued", True), ("queued", False)]


async def test_cancellation_by_the_channel_by_the_owner_and_not_twice(kit) -> None:
    queued = await kit.request()
    response = await kit.act(queued, "cancel", kit.channel, {"reason": "customer_called_in"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert (await kit.act(queued, "cancel", kit.channel)).status_code == 409
    assert (await kit.act(queued, "claim", kit.agent("a-10"))).status_code == 409
    assert (await kit.act(await kit.request(), "cancel", kit.agent("a-10"))).status_code == 403  # not in her inbox
    owned = await _claimed(kit, "a-10")
    assert (await kit.act(owned, "cancel", kit.agent("a-10"), {"reason": "duplicate"})).status_code == 200
    events = await kit.events({queued, owned}, expect=5)
    cancelled = [e for e in events if e["type"] == "cancelled"]
    assert sorted((e["by"], e["reason"]) for e in cancelled) == [("a-10", "duplicate"),
                                                                 ("web-site", "customer_called_in")]


async def test_a_channel_sees_only_ids_and_status_and_cancels_only_before_a_claim(kit) -> None:
    callback_id = await kit.request(attributes={"campaign": "spring"})
    seen = await kit.client.get(f"/v1/callbacks/{callback_id}", headers=kit.channel)
    assert seen.status_code == 200 and seen.json() == {"request_id": callback_id, "callback_id": callback_id,
                                                       "status": "queued"}
    assert (await kit.act(callback_id, "claim", kit.agent("a-11"))).status_code == 200
    refused = await kit.act(callback_id, "cancel", kit.channel, {"reason": "changed my mind"})
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("application/problem+json")
    item = await kit.status_is(callback_id, "claimed")
    assert item["agent_id"] == "a-11"
    staff = await kit.client.get(f"/v1/callbacks/{callback_id}", headers=kit.agent("a-11"))
    assert staff.json()["attributes"] == {"campaign": "spring"}
