"""What each consumed event does to a record, and to the timeline, as updates (no I/O)."""

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.consumer import Reject
from icsuite_contracts.callbacks_v1 import CallbackStarted
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded, ContactStarted
from icsuite_contracts.followups_v1 import FollowupCreated, SourceRef
from icsuite_contracts.identity_v1 import ContactIdentified
from icsuite_contracts.interactions_v1 import InteractionAccountLinked, InteractionClosed
from icsuite_contracts.testing import sample_event

from icsuite_interactions import event_writes
from icsuite_interactions.domain.ids import interaction_id_for_callback, interaction_id_for_contact
from icsuite_interactions.timeline import timeline_update

pytestmark = pytest.mark.unit
NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def _env(event):
    return new_envelope(event, source="/tests")


def test_started_opens_once_with_a_retry_stable_event_id() -> None:
    envelope = _env(sample_event(ContactStarted, contact_id="ct-1"))
    first, again = event_writes.contact_started(envelope, NOW), event_writes.contact_started(envelope, NOW)
    assert first.interaction_id == interaction_id_for_contact("ct-1")
    assert first.unless_present == "opened_at"
    assert first.publish[0].id == again.publish[0].id and first.publish[0].type == "ic.interaction.opened.v1"
    assert first.update["$set"]["channel"] == "phone"


def test_a_segment_keys_itself_by_id_and_only_raises_its_end() -> None:
    event = sample_event(ContactSegmentRecorded, contact_id="ct-1", segment_id="seg-2", kind="agent", agent_id="a-1")
    write = event_writes.contact_segment(_env(event), NOW)
    assert write.update["$max"] == {"media.kct-1.segments.kseg-2.ended_at": event.ended_at}
    assert write.update["$addToSet"] == {"agent_ids": "a-1"} and write.update["$set"]["has_agent"] is True
    running = event.model_copy(update={"ended_at": None, "kind": "ivr"})
    write = event_writes.contact_segment(_env(running), NOW)
    assert "$max" not in write.update and "has_agent" not in write.update["$set"]


def test_a_segment_that_ends_before_it_starts_is_rejected() -> None:
    event = sample_event(ContactSegmentRecorded)
    backwards = event.model_copy(update={"ended_at": event.started_at - timedelta(seconds=1)})
    with pytest.raises(Reject):
        event_writes.contact_segment(_env(backwards), NOW)


def test_only_a_confirmed_identification_links_an_account() -> None:
    assert event_writes.contact_identified(_env(sample_event(ContactIdentified, confirmed=False)), NOW) is None
    write = event_writes.contact_identified(_env(sample_event(ContactIdentified, confirmed=True)), NOW)
    assert write.publish[0].type == "ic.interaction.account-linked.v1"


def test_callbacks_and_followups() -> None:
    started = sample_event(CallbackStarted, callback_id="cb-1", attempt=3)
    write = event_writes.callback_started(_env(started), NOW)
    assert write.interaction_id == interaction_id_for_callback("cb-1", 3)
    assert [e.type for e in write.publish] == ["ic.interaction.opened.v1", "ic.interaction.activity-recorded.v1"]
    case = sample_event(FollowupCreated, source=SourceRef(type="case", id="case-1"))
    assert event_writes.followup_created(_env(case), NOW) is None
    followup = sample_event(FollowupCreated, source=SourceRef(type="interaction", id="int-9"))
    write = event_writes.followup_created(_env(followup), NOW)
    assert write.interaction_id == "int-9"
    assert write.update["$addToSet"]["linked_objects"] == {"type": "followup", "id": followup.followup_id}


def test_timeline_updates() -> None:
    closed = sample_event(InteractionClosed, agent_id="a-1", agent_ids=["a-2"])
    interaction_id, update = timeline_update(_env(closed))
    assert interaction_id == closed.interaction_id and update["$set"]["status"] == "closed"
    assert update["$addToSet"] == {"agent_ids": {"$each": ["a-1", "a-2"]}}
    _, update = timeline_update(_env(sample_event(InteractionAccountLinked)))
    assert update["$setOnInsert"] == {"status": "open"} and "account_id" in update["$set"]
    with pytest.raises(ValueError):
        timeline_update(_env(sample_event(ContactStarted)))
