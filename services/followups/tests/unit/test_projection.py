"""The projection of interaction records: pure, each event's effect on the record."""

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.interactions_v1 import (
    ActivityRecorded,
    InteractionAccountLinked,
    InteractionClosed,
    InteractionOpened,
    NoteAdded,
)

from icsuite_followups.projections.interaction_sources import (
    NOTES_KEPT,
    InteractionSourceCodec,
    interaction_of,
    project,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _apply(*events):
    state = None
    for event in events:
        state = project(state, new_envelope(event, source="/test")) or state
    return state


def _note(note_id: str, at: datetime = NOW, account_id: str | None = None) -> NoteAdded:
    return NoteAdded(interaction_id="int-1", account_id=account_id, note_id=note_id, type="note", language="en",
                     text=note_id, author="a-1", created_at=at)


def _closed() -> InteractionClosed:
    return InteractionClosed(interaction_id="int-1", account_id="acc-2", outcome="resolved", reason_code="billing",
                             closed_at=NOW)


def test_notes_keep_the_order_written_and_the_newest_are_kept() -> None:
    state = _apply(_note("z"), _note("a"), _note("early", NOW - timedelta(minutes=1)), _note("a"))
    assert [n.note_id for n in state.notes] == ["early", "z", "a"]  # same time: as they came; a repeat once
    many = _apply(*(_note(f"n{i}", NOW + timedelta(seconds=i)) for i in range(NOTES_KEPT + 5)))
    assert len(many.notes) == NOTES_KEPT and many.notes[-1].note_id == f"n{NOTES_KEPT + 4}"


def test_a_new_account_replaces_agreement_and_premise_and_closed_stays_closed() -> None:
    opened = InteractionOpened(interaction_id="int-1", origin="contact", channel="phone", direction="inbound",
                               account_id="acc-1", opened_at=NOW)
    linked = InteractionAccountLinked(interaction_id="int-1", account_id="acc-2", premise_id="pr-2")
    state = _apply(opened, linked)
    assert (state.account_id, state.business_agreement_id, state.premise_id) == ("acc-2", None, "pr-2")
    late_open = _apply(_closed(), opened)
    assert late_open.closed and late_open.reason_code == "billing"
    assert InteractionSourceCodec().decode(InteractionSourceCodec().encode(late_open)) == late_open
    assert late_open.snapshot.fields["account_id"] == "acc-1"  # the opened event's account, applied last


def test_other_events_change_nothing() -> None:
    activity = new_envelope(ActivityRecorded(interaction_id="int-1", activity_id="act-1", kind="payment",
                                             at=NOW), source="/test")
    assert project(None, activity) is None and interaction_of(activity) is None
