"""Contact, identity, callback and follow-up events become interaction records on the real stack."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta  # noqa: F401

import pytest
from icsuite_chassis.testing import bearer, eventually, header, publish_envelopes, read_topic
from icsuite_contracts.callbacks_v1 import CallbackStarted
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactEnded, ContactSegmentRecorded, ContactStarted
from icsuite_contracts.followups_v1 import FollowupCreated, SourceRef
from icsuite_contracts.identity_v1 import ContactIdentified
from icsuite_contracts.testing import sample_event, unique_id

from icsuite_chassis.store import MongoAggregateStore

from icsuite_interactions.domain.ids import interaction_id_for_callback, interaction_id_for_contact
from icsuite_interactions.handlers import EventIntake
from icsuite_interactions.repository import INTERACTIONS, RecordCodec

pytestmark = [pytest.mark.integration]
T0 = datetime(2025, 3, 1, 9, 15, tzinfo=UTC)
AGENT = bearer("a-17", "agent")


def _env(event):
    return new_envelope(event, source="/tests/cti")


def _segment(contact_id, segment_id, kind, minute, agent_id=None, ended=True):
    return ContactSegmentRecorded(
        contact_id=contact_id, segment_id=segment_id, kind=kind, agent_id=agent_id,
        started_at=T0 + timedelta(minutes=minute),
        ended_at=T0 + timedelta(minutes=minute + 1) if ended else None)


def _contact_events(contact_id: str, *, with_agent: bool) -> list:
    started = ContactStarted(contact_id=contact_id, channel="phone", direction="inbound", from_address="+4930123456",
                             to_address="+498001234567", queue="billing", started_at=T0)
    segments = [_segment(contact_id, "seg-ivr", "ivr", 0), _segment(contact_id, "seg-q", "queue", 1)]
    if with_agent:
        segments += [_segment(contact_id, "seg-a", "agent", 2, "a-17", ended=False),
                     _segment(contact_id, "seg-a", "agent", 2, "a-17"),
                     _segment(contact_id, "seg-h", "hold", 3), _segment(contact_id, "seg-b", "agent", 4, "a-23"),
                     _segment(contact_id, "seg-w", "wrap_up", 5, "a-23")]
    ended = ContactEnded(contact_id=contact_id, ended_at=T0 + timedelta(minutes=6), reason="caller_hangup")
    return [_env(e) for e in [started, *segments, ended]]


async def _record(service, interaction_id, **expected):
    response = await service.get(interaction_id)
    assert response.status_code == 200, response.text
    body = response.json()
    for key, value in expected.items():
        assert body[key] == value, (key, body[key])
    return body


async def test_shuffled_and_duplicated_contact_events_give_one_correct_record(service) -> None:
    contact_id = unique_id("ct")
    envelopes = _contact_events(contact_id, with_agent=True)
    delivered = envelopes + random.sample(envelopes, 4)
    random.shuffle(delivered)
    await publish_envelopes(service.bootstrap, *delivered)
    interaction_id = interaction_id_for_contact(contact_id)

    async def complete():
        body = await _record(service, interaction_id, channel="phone", status="open")
        [media] = body["media_items"]
        assert media.get("ended_at") is not None and len(media["segments"]) == 6
        assert all(s["ended_at"] is not None for s in media["segments"]), "a completed copy is still on its way"
        return body

    body = await eventually(complete, timeout=60)
    [media] = body["media_items"]
    assert [s["segment_id"] for s in media["segments"]] == ["seg-ivr", "seg-q", "seg-a", "seg-h", "seg-b", "seg-w"]
    assert media["segments"][2]["ended_at"] is not None  # the completed copy of the segment wins in any order
    assert body["agent_ids"] == ["a-17", "a-23"] and body["direction"] == "inbound"
    assert body["opened_at"].startswith("2025-03-01T09:15:00")
    assert body["late_events"] == []
    opened = await read_topic(service.bootstrap, "ic.interactions.v1",
                              lambda r: r.key == interaction_id.encode()
                              and header(r, "ce_type") == "ic.interaction.opened.v1", expect=1, timeout=30)
    # one opened event despite duplicates (the outbox may publish an event twice, with the same ce_id)
    assert {(header(r, "ce_type"), header(r, "ce_id")) for r in opened} == {
        ("ic.interaction.opened.v1", header(opened[0], "ce_id"))}
    listed = await service.client.get("/v1/interactions", params={"contact_id": contact_id},
                                      headers={"Authorization": "Bearer x"})
    assert listed.status_code == 401


async def test_a_contact_without_an_agent_closes_itself_and_keeps_later_events_apart(service) -> None:
    contact_id = unique_id("ct")
    envelopes = _contact_events(contact_id, with_agent=False)
    random.shuffle(envelopes)
    await publish_envelopes(service.bootstrap, *envelopes)
    interaction_id = interaction_id_for_contact(contact_id)
    body = await eventually(lambda: _record(service, interaction_id, status="closed"), timeout=60)
    assert body["outcome"] == "self_service" and body["duration_s"] == 360.0
    late = _env(_segment(contact_id, "seg-late", "agent", 7, "a-99"))
    await publish_envelopes(service.bootstrap, late, late)
    body = await eventually(lambda: _late(service, interaction_id), timeout=60)
    assert [e["event_id"] for e in body["late_events"]] == [late.id]
    assert len(body["media_items"][0]["segments"]) == 2 and body["agent_ids"] == []
    closed = await read_topic(service.bootstrap, "ic.interactions.v1",
                              lambda r: r.key == interaction_id.encode()
                              and header(r, "ce_type") == "ic.interaction.closed.v1", expect=1, timeout=30)
    assert len({header(r, "ce_id") for r in closed}) == 1 and json.loads(closed[0].value)["outcome"] == "self_service"


async def _late(service, interaction_id):
    body = (await service.get(interaction_id)).json()
    assert body["late_events"], "no late event yet"
    return body


async def test_a_confirmation_outranks_an_automatic_link_before_the_contact_started(service) -> None:
    contact_id, account_id = unique_id("ct"), unique_id("acc")
    unconfirmed = sample_event(ContactIdentified, contact_id=contact_id, account_id=unique_id("acc"), confirmed=False)
    confirmed = sample_event(ContactIdentified, contact_id=contact_id, account_id=account_id, confirmed=True,
                             method="agent_search", agent_id="a-17")
    await publish_envelopes(service.bootstrap, _env(unconfirmed), _env(confirmed))
    interaction_id = interaction_id_for_contact(contact_id)
    await eventually(lambda: _record(service, interaction_id, account_id=account_id), timeout=60)
    await publish_envelopes(service.bootstrap, *_contact_events(contact_id, with_agent=True))
    body = await eventually(lambda: _record(service, interaction_id, channel="phone"), timeout=60)
    assert body["business_agreement_id"] == confirmed.business_agreement_id
    assert body["premise_id"] == confirmed.premise_id
    assert body["account_id"] == account_id and body["identification"] == "confirmed"
    linked = await read_topic(service.bootstrap, "ic.interactions.v1",
                              lambda r: r.key == interaction_id.encode()
                              and header(r, "ce_type") == "ic.interaction.account-linked.v1", expect=2, timeout=30)
    links = {header(r, "ce_id"): json.loads(r.value) for r in linked}  # an event published twice has one id
    assert sorted((d["link_sequence"], d["account_id"], d["identification"]) for d in links.values()) == [
        (1, unconfirmed.account_id, "automatic"), (2, account_id, "confirmed")]


async def test_a_started_callback_opens_an_outbound_interaction_and_a_followup_links_to_it(service) -> None:
    started = sample_event(CallbackStarted, attempt=2, reason_code="billing_question")
    await publish_envelopes(service.bootstrap, _env(started))
    interaction_id = interaction_id_for_callback(started.callback_id, 2)
    body = await eventually(lambda: _record(service, interaction_id, direction="outbound", origin="callback"), timeout=60)
    assert body["account_id"] == started.account_id and body["agent_ids"] == ["a-17"]
    assert [a["kind"] for a in body["activities"]] == ["callback_executed"]
    assert {"type": "callback", "id": started.callback_id} in body["linked_objects"]
    followup = sample_event(FollowupCreated, source=SourceRef(type="interaction", id=interaction_id))
    other = sample_event(FollowupCreated, source=SourceRef(type="case", id=interaction_id))
    once = _env(followup)
    await publish_envelopes(service.bootstrap, once, once, _env(other))

    async def linked():
        body = await _record(service, interaction_id)
        assert {"type": "followup", "id": followup.followup_id} in body["linked_objects"]
        return body

    body = await eventually(linked, timeout=60)
    assert [a["kind"] for a in body["activities"]] == ["callback_executed", "followup_created"]
    assert len(body["linked_objects"]) == 2


async def test_an_event_decided_on_an_open_record_that_closes_meanwhile_becomes_a_late_event(service) -> None:
    """The guarded write: a close by the gateway between the store's read and its write makes the segment's
    write lose its race; decided again on a fresh read, the event is a late event, and only once."""
    running = service.app.state.service
    store = MongoAggregateStore(service.db, INTERACTIONS, RecordCodec())  # this consumer's own, to race on
    intake = EventIntake(store, running.records, clock=running.clock, self_service_grace_s=60)
    contact_id = unique_id("ct")
    interaction_id = interaction_id_for_contact(contact_id)
    started = _contact_events(contact_id, with_agent=False)[0]
    segment = _env(_segment(contact_id, "seg-late", "agent", 9, "a-17"))
    await intake.on_events([started])
    closed_in_between = False

    async def close_first() -> None:
        nonlocal closed_in_between
        if not closed_in_between:
            closed_in_between = True
            store.before_write = None
            response = await service.client.post(f"/v1/interactions/{interaction_id}/complete", headers=AGENT,
                                                 json={"outcome": "resolved"})
            assert response.status_code == 200, response.text
            store.before_write = close_first

    store.before_write = close_first
    try:
        await intake.on_events([segment])
        await intake.on_events([segment])  # a redelivery: applied already
    finally:
        store.before_write = None
    assert closed_in_between
    record = await _record(service, interaction_id, status="closed")
    assert [m["segments"] for m in record["media_items"]] == [[]]
    assert [e["event_id"] for e in record["late_events"]] == [segment.id]
