from datetime import UTC, datetime, timedelta, timezone

import pytest
from icsuite_contracts.cloudevents import from_kafka, to_kafka

from icsuite_followups.repository import FollowupCodec
from icsuite_followups.domain import (
    Actor,
    DEFAULT_COPY_RULES,
    DEFAULT_FOLLOWUP_TYPES,
    NewFollowup,
    NoteDraft,
    Schedule,
    SourceSnapshot,
    decide_change,
    decide_create,
    decide_overdue,
    envelopes_for,
)

pytestmark = pytest.mark.unit
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


def _followup():
    cmd = NewFollowup(source_type="case", source_id="case-1", type="task", channel="email",
                      requested={"account_id": "acc-1", "contact_person_id": "acc-2"},
                      schedule=Schedule(planned_start=datetime(2025, 3, 4, 9, tzinfo=CET), due_at=NOW),
                      scratch_pad=NoteDraft("note", "en", "from the pad"))
    return decide_create(cmd, followup_id="fu-1", author="a-1", now=NOW, note_ids=["n-1"],
                         type_rules=DEFAULT_FOLLOWUP_TYPES, copy_rules=DEFAULT_COPY_RULES,
                         source=SourceSnapshot.empty(), correlation_id="c-1")


def test_every_change_becomes_a_valid_contract_event_with_a_derived_id() -> None:
    followup, events = _followup()
    created, note = envelopes_for(followup, events)
    assert (created.type, note.type) == ("ic.followup.created.v1", "ic.followup.note-added.v1")
    assert created.data.contact_person_id == "acc-2" and created.key == "fu-1" and created.correlation_id == "c-1"
    assert envelopes_for(followup, events)[0].id == created.id  # same id on a retry
    changed, more = decide_change(followup, {"status": "in_process", "owner_id": "a-3"}, actor=Actor("a-1", True), now=NOW)
    kinds = [e.type for e in envelopes_for(changed, more)]
    assert kinds == ["ic.followup.updated.v1", "ic.followup.status-changed.v1"]
    reported, detected = decide_overdue(changed, NOW)
    overdue = envelopes_for(reported, detected)[0]
    assert overdue.type == "ic.followup.overdue.v1" and overdue.correlation_id == "c-1"
    for envelope in (created, note, overdue):
        record = to_kafka(envelope)
        assert from_kafka(record.headers, record.value).data == envelope.data


def test_a_document_reads_back_as_the_same_follow_up_with_its_offsets() -> None:
    followup, _ = _followup()
    again = FollowupCodec().decode(FollowupCodec().encode(followup))
    assert again == followup
    assert again.schedule.planned_start.utcoffset() == timedelta(hours=1)
