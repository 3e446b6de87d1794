"""Routing by skill and language and business hours through the gateway (issue 17): profiles store them,
claim-next and the general inbox offer an agent only what she can serve, a claim by id is refused with 403,
and a request outside business hours waits, scheduled, until the scheduler queues it at the opening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.testing import eventually, unique

pytestmark = [pytest.mark.integration]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


async def _profile(kit, **fields) -> str:
    code = unique("routed").replace("-", "_")
    response = await kit.client.put(f"/v1/reason-profiles/{code}", json={"priority": 1000, **fields},
                                    headers=kit.admin)
    assert response.status_code == 201, response.text
    return code


async def _inbox(kit, who) -> list[str]:
    response = await kit.client.get("/v1/inbox", headers=who, params={"limit": 200})
    assert response.status_code == 200, response.text
    return [item["callback_id"] for item in response.json()["items"]]


async def test_a_skill_and_language_restricted_item_goes_only_to_an_agent_who_can_serve_it(kit) -> None:
    skill = unique("skill")
    code = await _profile(kit, skill=skill, language="fr-CA")
    stored = (await kit.client.get(f"/v1/reason-profiles/{code}", headers=kit.admin)).json()
    assert (stored["skill"], stored["language"]) == (skill, "fr-CA")
    callback_id = await kit.request(reason_code=code)
    item = await kit.status_is(callback_id, "queued")
    assert (item["skill"], item["agent_language"]) == (skill, "fr")

    no_claims = kit.agent(unique("a"))                                   # a token without skills: none
    skill_only = kit.agent(unique("a"), skill)                           # the skill, not the language
    serves = kit.agent("a-fr", skill, languages=("fr-FR", "en"))
    for who in (no_claims, skill_only):
        assert callback_id not in await _inbox(kit, who)
        offered = await kit.client.post("/v1/callbacks/claim-next", headers=who)
        assert offered.status_code == 204 or offered.json()["callback_id"] != callback_id, offered.text
    refused = await kit.act(callback_id, "claim", no_claims)
    assert refused.status_code == 403 and refused.json()["reason"] == "skill-required", refused.text
    refused = await kit.act(callback_id, "claim", skill_only)
    assert refused.status_code == 403 and refused.json()["reason"] == "language-required", refused.text
    await kit.status_is(callback_id, "queued")                           # nothing changed

    assert callback_id in await _inbox(kit, serves) and callback_id in await _inbox(kit, kit.supervisor)
    claimed = await kit.client.post("/v1/callbacks/claim-next", headers=serves)
    assert claimed.status_code == 200 and claimed.json()["callback_id"] == callback_id, claimed.text
    events = await kit.events({callback_id}, expect=2)
    assert [(e["type"], e.get("agent_id")) for e in events] == [("queued", None), ("claimed", "a-fr")]


async def test_bad_business_hours_and_a_window_outside_them_answer_422(kit) -> None:
    code = unique("hours")
    bad = await kit.client.put(f"/v1/reason-profiles/{code}", headers=kit.admin, json={
        "business_hours": {"time_zone": "Europe/Berlin", "days": {"mon": [["18:00", "08:00"]]}}})
    assert bad.status_code == 422 and bad.json()["reason"] == "invalid-business-hours", bad.text
    bad = await kit.client.put(f"/v1/reason-profiles/{code}", headers=kit.admin, json={
        "business_hours": {"time_zone": "Europe/Berlin", "days": {"mon": [["8:00", "18:00"]]}}})
    assert bad.status_code == 422, bad.text
    assert (await kit.client.get(f"/v1/reason-profiles/{code}", headers=kit.admin)).status_code == 404
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    closed_today = {DAYS[tomorrow.weekday()]: [["00:00", "24:00"]]}   # open only tomorrow (UTC)
    shut = await _profile(kit, business_hours={"time_zone": "UTC", "days": closed_today})
    response = await kit.client.post("/v1/callbacks", headers=kit.channel, json={
        "callback_number": kit.number(), "account_id": unique("acc"), "reason_code": shut,
        "preferred_to": tomorrow.replace(hour=0, minute=0, second=0, microsecond=0).isoformat()})
    assert response.status_code == 422 and response.json()["reason"] == "outside-business-hours", response.text


async def test_a_request_outside_business_hours_is_queued_by_the_scheduler_at_the_opening(kit) -> None:
    now = datetime.now(UTC)
    opening = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if opening - now < timedelta(seconds=15):
        opening += timedelta(minutes=1)
    closing = min(opening + timedelta(minutes=30), opening.replace(hour=0, minute=0) + timedelta(days=1))
    end = "24:00" if closing.date() > opening.date() else closing.strftime("%H:%M")
    hours = {"time_zone": "UTC", "days": {DAYS[opening.weekday()]: [[opening.strftime("%H:%M"), end]]}}
    code = await _profile(kit, business_hours=hours)
    assert (await kit.client.get(f"/v1/reason-profiles/{code}", headers=kit.admin)).json()["business_hours"] == hours
    callback_id = await kit.request(reason_code=code)
    item = await kit.status_is(callback_id, "scheduled")
    assert datetime.fromisoformat(item["visible_from"]) == opening
    assert callback_id not in await _inbox(kit, kit.supervisor)

    async def queued() -> datetime | None:
        if (await kit.get(callback_id))["status"] == "queued":
            return datetime.now(UTC)
        return None

    queued_at = await eventually(queued, timeout=150, interval=0.2)
    assert queued_at >= opening                                      # not a moment before the opening
    events = await kit.events({callback_id}, expect=2)
    assert events[0]["type"] == "queued" and datetime.fromisoformat(events[0]["scheduled_for"]) == opening
    assert events[1]["type"] == "queued" and events[1].get("scheduled_for") is None
