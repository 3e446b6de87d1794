"""Consumed events on the in-memory store: in any order, more than once, late, and what they publish."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from icsuite_contracts.callbacks_v1 import CallbackStarted
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactEnded, ContactSegmentRecorded, ContactStarted
from icsuite_contracts.followups_v1 import FollowupCreated, SourceRef
from icsuite_contracts.identity_v1 import ContactIdentified
from icsuite_contracts.testing import sample_event

from icsuite_interactions.domain.ids import interaction_id_for_callback, interaction_id_for_contact
from icsuite_interactions.domain.intake import SegmentEndsBeforeStart
from icsuite_interactions.domain.rules import Actor, Completion

from .conftest import T0

pytestmark = pytest.mark.unit


def _env(event):
    return new_envelope(event, source="/tests")


def _contact(contact_id: str = "ct-1") -> list:
    started = ContactStarted(contact_id=contact_id, channel="phone", direction="inbound", from_address="+4930123",
                             started_at=T0)
    running = ContactSegmentRecorded(contact_id=contact_id, segment_id="seg-a", kind="agent", agent_id="a-1",
                                     started_at=T0 + timedelta(minutes=1))
    done = running.model_copy(update={"ended_at": T0 + timedelta(minutes=3)})
    ended = ContactEnded(contact_id=contact_id, ended_at=T0 + timedelta(minutes=4), reason="caller_hangup")
    return [_env(e) for e in (started, running, done, ended)]


async def _apply(kit, *envelopes) -> None:
    await kit.intake.on_events(envelopes)


async def test_every_order_of_a_contacts_events_gives_the_same_record(kit) -> None:
    envelopes = _contact()
    records = []
    for order in itertools.permutations(envelopes):
        kit.store.documents.clear()
        for envelope in order:
            await _apply(kit, envelope)
        record = await kit.records.get(interaction_id_for_contact("ct-1"))
        records.append((record.opened_at, record.agent_ids, record.media["ct-1"].segments["seg-a"].ended_at,
                        record.media["ct-1"].ended_at, record.has_agent))
    assert len(set(records)) == 1 and records[0][2] == T0 + timedelta(minutes=3)


async def test_one_batch_chains_a_records_events_and_opens_once_with_a_retry_stable_event_id(kit) -> None:
    envelopes = _contact()
    await _apply(kit, *envelopes, envelopes[0], envelopes[2])  # two redeliveries in the same batch
    await _apply(kit, *envelopes)  # and the whole batch again
    published = kit.store.published()
    assert [e.type for e in published] == ["ic.interaction.opened.v1"]
    kit.store.documents.clear()
    await _apply(kit, envelopes[0])
    assert kit.store.published()[0].id == published[0].id  # derived from the cause


async def test_a_segment_that_ends_before_it_starts_can_never_apply(kit) -> None:
    event = sample_event(ContactSegmentRecorded)
    backwards = event.model_copy(update={"ended_at": event.started_at - timedelta(seconds=1)})
    with pytest.raises(SegmentEndsBeforeStart):
        await _apply(kit, _env(backwards))
    assert kit.store.documents == {}


async def test_an_event_for_a_closed_record_is_kept_late_and_changes_nothing_else(kit) -> None:
    started, running, done, ended = _contact()
    await _apply(kit, started)
    interaction_id = interaction_id_for_contact("ct-1")
    await kit.commands.complete(interaction_id, Actor("a-9"), Completion("resolved"))
    await _apply(kit, done, done)
    record = await kit.records.get(interaction_id)
    assert [e.event_id for e in record.late_events] == [done.id] and record.media["ct-1"].segments == {}
    assert record.agent_ids == ("a-9",)


async def test_late_events_past_their_cap_are_only_counted(kit) -> None:
    started = _contact()[0]
    await _apply(kit, started)
    interaction_id = interaction_id_for_contact("ct-1")
    await kit.commands.complete(interaction_id, Actor("a-9"), Completion("resolved"))
    for minute in range(60):
        segment = ContactSegmentRecorded(contact_id="ct-1", segment_id=f"s{minute}", kind="ivr",
                                         started_at=T0 + timedelta(minutes=minute))
        await _apply(kit, _env(segment))
    record = await kit.records.get(interaction_id)
    assert len(record.late_events) == 50 and record.late_events_dropped == 10


async def test_a_unique_automatic_match_links_and_a_confirmation_outranks_it_in_any_order(kit) -> None:
    automatic = _env(sample_event(ContactIdentified, contact_id="ct-1", account_id="acc-1", confirmed=False,
                                  method="auto_number", agent_id=None))
    confirmed = _env(sample_event(ContactIdentified, contact_id="ct-1", account_id="acc-2", confirmed=True,
                                  method="agent_search", agent_id="a-1"))
    several = _env(sample_event(ContactIdentified, contact_id="ct-1", account_id=None, confirmed=False))
    interaction_id = interaction_id_for_contact("ct-1")
    for order in ([automatic, confirmed], [confirmed, automatic]):
        kit.store.documents.clear()
        for envelope in [several, *order]:
            await kit.intake.on_events([envelope])
        record = await kit.records.get(interaction_id)
        assert (record.account_id, record.identification.kind) == ("acc-2", "confirmed")
    kit.store.published()
    kit.store.documents.clear()
    await kit.intake.on_events([automatic])
    record = await kit.records.get(interaction_id)
    assert (record.account_id, record.identification.kind) == ("acc-1", "automatic")
    [linked] = kit.store.published()
    assert (linked.data.identification, linked.data.link_sequence) == ("automatic", 1)


async def test_a_started_callback_opens_its_outbound_record_and_a_followup_links_to_it(kit) -> None:
    started = _env(sample_event(CallbackStarted, callback_id="cb-1", attempt=2, attributes={"campaign": "spring"}))
    await kit.intake.on_events([started])
    await kit.intake.on_events([started])
    interaction_id = interaction_id_for_callback("cb-1", 2)
    assert [e.type for e in kit.store.published()] == ["ic.interaction.opened.v1",
                                                       "ic.interaction.activity-recorded.v1"]
    followup = _env(sample_event(FollowupCreated, source=SourceRef(type="interaction", id=interaction_id)))
    elsewhere = _env(sample_event(FollowupCreated, source=SourceRef(type="case", id=interaction_id)))
    for envelope in (followup, followup, elsewhere):
        await kit.intake.on_events([envelope])
    record = await kit.records.get(interaction_id)
    assert [a.kind for a in record.activities] == ["callback_executed", "followup_created"]
    assert [(o.type, o.id) for o in record.linked_objects] == [("callback", "cb-1"),
                                                               ("followup", followup.data.followup_id)]
    assert record.direction == "outbound" and record.agent_ids == (started.data.agent_id,)
    assert record.attributes == {"campaign": "spring"}
