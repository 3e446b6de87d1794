"""The per-account timeline: newest first, filters, cursor pages, and a rebuild from the topic equal to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.testing import bearer, eventually, publish_envelopes, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactEnded, ContactStarted
from icsuite_contracts.identity_v1 import ContactIdentified
from icsuite_contracts.testing import unique_id

from icsuite_chassis.replay import replay_topic
from icsuite_contracts.interactions_v1 import TOPIC

from icsuite_interactions.projections.timeline import timeline_writer
from icsuite_interactions.rebuild import rebuild_timeline

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
SUPERVISOR = bearer("s-1", "supervisor")
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


async def _manual(service, account_id: str, channel: str, hours: int, headers=AGENT) -> str:
    body = {"channel": channel, "account_id": account_id, "opened_at": (T0 + timedelta(hours=hours)).isoformat()}
    response = await service.client.post("/v1/interactions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["interaction_id"]


async def _phone_contact(service, account_id: str, hours: int) -> None:
    contact_id = unique_id("ct")
    started = ContactStarted(contact_id=contact_id, channel="phone", direction="inbound", from_address="+4930123456",
                             started_at=T0 + timedelta(hours=hours))
    identified = ContactIdentified(contact_id=contact_id, account_id=account_id, method="auto_number", confirmed=True)
    ended = ContactEnded(contact_id=contact_id, ended_at=T0 + timedelta(hours=hours, minutes=2))
    await publish_envelopes(service.bootstrap, *(new_envelope(e, source="/tests") for e in (started, identified, ended)))


async def _timeline(service, account_id: str, **params) -> dict:
    response = await service.client.get(f"/v1/accounts/{account_id}/interactions", params=params, headers=AGENT)
    assert response.status_code == 200, response.text
    return response.json()


async def _settled(service, account_id: str) -> list[dict]:
    """The timeline once it shows 4 entries, the phone contact closed as self-service."""
    items = (await _timeline(service, account_id))["items"]
    assert len(items) == 4 and items[0]["outcome"] == "self_service", items
    return items


async def test_the_timeline_lists_filters_pages_and_rebuilds_equal(service) -> None:
    account_id = unique_id("acc")
    walk_in = await _manual(service, account_id, "walk_in", 1)
    letter = await _manual(service, account_id, "letter", 2, headers=SUPERVISOR)
    third = await _manual(service, account_id, "walk_in", 3)
    await service.client.post(f"/v1/interactions/{walk_in}/complete", json={"outcome": "resolved"}, headers=AGENT)
    await service.client.post(f"/v1/interactions/{third}/notes", headers=AGENT,
                              json={"type": "note", "language": "en", "text": "hello"})
    await _phone_contact(service, account_id, 4)
    # the module's fresh timeline group first catches up with the shared topic's history
    items = await eventually(lambda: _settled(service, account_id), timeout=240)
    assert [i["channel"] for i in items] == ["phone", "walk_in", "letter", "walk_in"]  # newest first
    assert items[1]["note_count"] == 1 and items[3]["status"] == "closed"
    assert [i["interaction_id"] for i in (await _timeline(service, account_id, channel="walk_in"))["items"]] == [
        third, walk_in]
    assert [i["interaction_id"] for i in (await _timeline(service, account_id, agent_id="s-1"))["items"]] == [letter]
    assert [i["interaction_id"] for i in (await _timeline(service, account_id, outcome="resolved"))["items"]] == [
        walk_in]
    window = {"from": (T0 + timedelta(hours=2)).isoformat(), "to": (T0 + timedelta(hours=4)).isoformat()}
    assert [i["interaction_id"] for i in (await _timeline(service, account_id, **window))["items"]] == [third, letter]
    first = await _timeline(service, account_id, limit=3)
    second = await _timeline(service, account_id, limit=3, cursor=first["next_cursor"])
    assert [i["interaction_id"] for i in first["items"] + second["items"]] == [i["interaction_id"] for i in items]
    assert second["next_cursor"] is None

    live = await _entries(service.db.timeline, account_id)
    report = await rebuild_timeline(service.db, service.bootstrap, "timeline")
    assert report.events > 0
    assert len(live) == 4 and await _entries(service.db.timeline, account_id) == live


async def _entries(collection, account_id: str) -> list[dict]:
    cursor = collection.find({"account_id": account_id}, {"_applied": 0, "_version": 0}).sort("_id", 1)
    return [doc async for doc in cursor]


async def test_a_rebuild_keeps_what_the_live_consumer_applied_meanwhile_and_equals_a_fresh_replay(service) -> None:
    """Issue 19: events applied live while the rebuild replays are neither lost nor doubled by the swap."""
    account_id = unique_id("acc")
    first, second = [await _manual(service, account_id, "walk_in", hours) for hours in (1, 2)]
    await eventually(lambda: _count(service, account_id, 2), timeout=60)
    shadow = unique("timeline_shadow").replace("-", "_")
    live: dict[str, str] = {}

    async def replay_with_live_changes():
        async for batch in replay_topic(service.bootstrap, TOPIC, key_ring=service.app.state.runtime.key_ring):
            if not live:  # the replay's end offsets are fixed: these reach the shadow only through the consumer
                live["third"] = await _manual(service, account_id, "letter", 3)
                await service.client.post(f"/v1/interactions/{first}/notes", headers=AGENT,
                                          json={"type": "note", "language": "en", "text": "during the rebuild"})
                await service.client.post(f"/v1/interactions/{second}/complete", headers=AGENT,
                                          json={"outcome": "resolved"})
                await eventually(lambda: _applied_to(service.db[shadow], [first, second, live["third"]]), timeout=60)
            yield batch

    report = await service.app.state.service.timeline.rebuild(replay_with_live_changes, shadow=shadow)
    assert report.events > 0 and live
    rebuilt = await _entries(service.db.timeline, account_id)
    assert [(e["_id"], e["status"], e.get("note_count", 0)) for e in sorted(rebuilt, key=lambda e: e["opened_at"])] == [
        (first, "open", 1), (second, "closed", 0), (live["third"], "open", 0)]
    fresh = unique("timeline_fresh").replace("-", "_")
    await timeline_writer(service.db, fresh).rebuild(
        lambda: replay_topic(service.bootstrap, TOPIC, key_ring=service.app.state.runtime.key_ring))
    assert await _entries(service.db[fresh], account_id) == rebuilt


async def _count(service, account_id: str, n: int) -> bool:
    assert len((await _timeline(service, account_id))["items"]) == n
    return True


async def _applied_to(collection, ids: list[str]) -> bool:
    docs = {doc["_id"]: doc async for doc in collection.find({"_id": {"$in": ids}})}
    assert [(docs[i].get("status"), docs[i].get("note_count", 0)) for i in ids if i in docs] == [
        ("open", 1), ("closed", 0), ("open", 0)], docs
    return True
