from datetime import UTC, datetime, timedelta, timezone

import pytest

from icsuite_followups.domain import (
    Actor,
    CopiedFrom,
    DEFAULT_FOLLOWUP_TYPES,
    CopyRule,
    CopyRules,
    FieldsChanged,
    FollowupFinished,
    FollowupOpened,
    InvalidSchedule,
    InvalidTransition,
    NewFollowup,
    NoteAppended,
    NoteDraft,
    NotOwner,
    OverdueDetected,
    Schedule,
    SourceNote,
    SourceSnapshot,
    StatusChanged,
    TypeNotPermitted,
    decide_change,
    decide_create,
    decide_overdue,
    is_overdue,
    is_planned,
)

pytestmark = pytest.mark.unit
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CET = timezone(timedelta(hours=1))
RULES = CopyRules(source_types={"interaction": CopyRule(fields=("account_id", "reason_code"), note_types=("report",))})
SOURCE = SourceSnapshot(
    fields={"account_id": "acc-1", "business_agreement_id": "ba-1", "reason_code": "billing"},
    notes=(SourceNote("n-a", "note", "en", "plain", "a-1"), SourceNote("n-b", "report", "de", "Bericht", "a-2")),
)


def _create(cmd: NewFollowup, source: SourceSnapshot = SOURCE):
    return decide_create(cmd, followup_id="fu-1", author="a-9", now=NOW, note_ids=[f"n-{i}" for i in range(len(cmd.drafts()))],
                           type_rules=DEFAULT_FOLLOWUP_TYPES, copy_rules=RULES, source=source)


def _cmd(**kw) -> NewFollowup:
    return NewFollowup(**{"source_type": "interaction", "source_id": "int-1", "type": "phone_call",
                          "channel": "phone", **kw})


def test_copying_fills_exactly_the_configured_fields_and_notes() -> None:
    followup, events = _create(_cmd())
    assert followup.parties["account_id"] == "acc-1" and followup.parties["reason_code"] == "billing"
    assert followup.parties["business_agreement_id"] is None  # not configured, so not copied
    assert [(n.type, n.text, n.author, n.created_at) for n in followup.notes] == [("report", "Bericht", "a-9", NOW)]
    assert followup.notes[0].copied_from == CopiedFrom("interaction", "int-1", "n-b", author="a-2")
    assert followup.copied_fields == ("account_id", "reason_code", "notes")
    assert isinstance(events[0], FollowupOpened) and isinstance(events[1], NoteAppended)


def test_request_values_win_over_copied_ones() -> None:
    followup, _ = _create(_cmd(requested={"account_id": "acc-9"}))
    assert followup.parties["account_id"] == "acc-9"
    assert followup.copied_fields == ("reason_code", "notes")


def test_own_notes_and_scratch_pad_follow_the_copied_history() -> None:
    cmd = _cmd(notes=[NoteDraft("preparation", "en", "bring meter key")],
               scratch_pad=NoteDraft("internal", "de", "vom Notizblock"))
    followup, events = _create(cmd)
    assert [n.type for n in followup.notes] == ["report", "preparation", "internal"]
    assert [n.author for n in followup.notes[1:]] == ["a-9", "a-9"]
    assert sum(isinstance(e, NoteAppended) for e in events) == 3


def test_a_type_the_customizing_refuses_is_not_created() -> None:
    with pytest.raises(TypeNotPermitted):
        _create(_cmd(channel="sms", type="visit"))


def test_an_end_before_its_start_is_refused() -> None:
    with pytest.raises(InvalidSchedule):
        _create(_cmd(schedule=Schedule(planned_start=NOW, planned_end=NOW - timedelta(minutes=1))))


def test_status_moves_along_valid_transitions_only() -> None:
    followup, _ = _create(_cmd())
    working, events = decide_change(followup, {"status": "in_process"}, actor=Actor("a-2", True), now=NOW)
    assert events == [StatusChanged("open", "in_process", NOW, "a-2")] and working.version == 2
    done, _ = decide_change(working, {"status": "completed"}, actor=Actor("a-2", True), now=NOW)
    with pytest.raises(FollowupFinished):
        decide_change(done, {"status": "open"}, actor=Actor("a-2", True), now=NOW)
    with pytest.raises(FollowupFinished):
        decide_change(done, {"priority": 1}, actor=Actor("a-2", True), now=NOW)
    assert decide_change(done, {"status": "completed"}, actor=Actor("a-2", True), now=NOW) == (done, [])


def test_an_invalid_transition_names_the_allowed_ones() -> None:
    followup, _ = _create(_cmd())
    cancelled, _ = decide_change(followup, {"status": "cancelled"}, actor=Actor("a", True), now=NOW)
    assert cancelled.status == "cancelled"
    with pytest.raises(InvalidTransition) as refused:
        decide_change(followup, {"status": "bogus"}, actor=Actor("a", True), now=NOW)
    assert refused.value.allowed == ["in_process", "completed", "cancelled"]


def test_field_changes_are_reported_and_dates_keep_their_offset() -> None:
    followup, _ = _create(_cmd())
    due = datetime(2025, 3, 5, 17, 0, tzinfo=CET)
    changed, events = decide_change(followup, {"due_at": due, "owner_id": "a-5", "priority": 5},
                                      actor=Actor("a-1", True), now=NOW)
    assert events == [FieldsChanged(("owner_id", "due_at"), NOW, "a-1")]  # priority 5 was already 5
    assert changed.schedule.due_at.utcoffset() == timedelta(hours=1)
    with pytest.raises(InvalidSchedule):
        decide_change(changed, {"planned_start": NOW, "planned_end": NOW - timedelta(hours=1)}, actor=Actor("a", True), now=NOW)


def test_overdue_is_detected_once_per_due_date() -> None:
    followup, _ = _create(_cmd(schedule=Schedule(due_at=NOW - timedelta(minutes=5))))
    assert is_overdue(followup, NOW)
    reported, events = decide_overdue(followup, NOW)
    assert events == [OverdueDetected(followup.schedule.due_at, NOW)] and reported.overdue_emitted
    assert decide_overdue(reported, NOW) == (reported, [])  # once per due date
    moved, _ = decide_change(reported, {"due_at": NOW + timedelta(hours=1)}, actor=Actor("a", True), now=NOW)
    assert moved.overdue_emitted is False and not is_overdue(moved, NOW)
    assert is_overdue(moved, NOW + timedelta(hours=2))
    done, _ = decide_change(moved, {"status": "completed"}, actor=Actor("a", True), now=NOW)
    assert not is_overdue(done, NOW + timedelta(hours=2))


def test_planned_means_active_and_scheduled() -> None:
    unscheduled, _ = _create(_cmd())
    scheduled, _ = _create(_cmd(schedule=Schedule(planned_start=NOW)))
    assert not is_planned(unscheduled) and is_planned(scheduled)
    cancelled, _ = decide_change(scheduled, {"status": "cancelled"}, actor=Actor("a", True), now=NOW)
    assert not is_planned(cancelled)


def test_the_business_partners_can_be_maintained() -> None:
    followup, _ = _create(_cmd())
    changed, events = decide_change(followup, {"account_id": "acc-2", "business_agreement_id": None,
                                                 "contact_person_id": "acc-3"}, actor=Actor("a", True), now=NOW)
    assert (changed.account_id, changed.parties["contact_person_id"]) == ("acc-2", "acc-3")
    assert events == [FieldsChanged(("account_id", "contact_person_id"), NOW, "a")]  # the agreement was empty


def test_the_job_filters_find_exactly_what_the_decisions_accept() -> None:
    """The jobs change the first documents their filter matches; a match the decision refused would
    keep them trying the same document."""
    from icsuite_chassis.store.matching import matches

    from icsuite_followups.domain import is_coming_due, is_overdue
    from icsuite_followups.repository import FollowupCodec, due_filter, overdue_filter

    codec = FollowupCodec()
    variants = []
    for type_ in ("phone_call", "task"):
        for schedule in (Schedule(), Schedule(planned_start=NOW - timedelta(minutes=1), due_at=NOW),
                         Schedule(planned_start=NOW + timedelta(minutes=1), due_at=NOW + timedelta(minutes=1))):
            followup, _ = _create(_cmd(type=type_, schedule=schedule))
            for status in ("open", "in_process", "completed", "cancelled"):
                for flags in ({}, {"overdue_emitted": True, "came_due_at": NOW}):
                    variants.append(followup.__class__(**{**followup.__dict__, "status": status, **flags}))
    for f in variants:
        doc = codec.encode(f)
        assert matches(doc, overdue_filter(NOW)) == is_overdue(f, NOW)
        assert matches(doc, due_filter(NOW)) == is_coming_due(f, NOW)
    assert any(is_coming_due(f, NOW) for f in variants) and any(is_overdue(f, NOW) for f in variants)


def test_the_author_owns_a_follow_up_created_without_an_owner() -> None:
    assert _create(_cmd())[0].owner_id == "a-9"
    assert _create(_cmd(requested={"owner_id": "a-5"}))[0].owner_id == "a-5"


@pytest.mark.parametrize("change", [{"owner_id": "a-6"}, {"status": "cancelled"}, {"status": "completed"},
                                    {"priority": 1}, {"due_at": NOW}, {"priority": 5}])
def test_only_the_owner_or_a_supervisor_changes_a_follow_up(change) -> None:
    followup, _ = _create(_cmd(requested={"owner_id": "a-5"}))
    with pytest.raises(NotOwner):
        decide_change(followup, change, actor=Actor("a-6"), now=NOW)  # another agent, even for no change
    with pytest.raises(NotOwner):
        decide_change(followup, change, actor=Actor.of("a-9", {"agent"}), now=NOW)  # not even its creator
    decide_change(followup, change, actor=Actor("a-5"), now=NOW)
    for roles in ({"supervisor"}, {"admin"}, {"agent", "supervisor"}):
        decide_change(followup, change, actor=Actor.of("s-1", roles), now=NOW)


def test_a_reassigned_follow_up_belongs_to_its_new_owner_and_one_without_owner_to_anyone() -> None:
    followup, _ = _create(_cmd(requested={"owner_id": "a-5"}))
    handed_over, events = decide_change(followup, {"owner_id": "a-6"}, actor=Actor("a-5"), now=NOW)
    assert events == [FieldsChanged(("owner_id",), NOW, "a-5")]
    with pytest.raises(NotOwner):
        decide_change(handed_over, {"priority": 1}, actor=Actor("a-5"), now=NOW)
    released, _ = decide_change(handed_over, {"owner_id": None}, actor=Actor("a-6"), now=NOW)
    taken, _ = decide_change(released, {"owner_id": "a-7"}, actor=Actor("a-7"), now=NOW)
    assert taken.owner_id == "a-7"


def test_every_note_is_written_by_the_caller_now_whatever_the_source_says() -> None:
    """A note's author and time come from the token and the clock; a copied note names its source's author."""
    old = NOW - timedelta(days=400)
    source = SourceSnapshot(fields={}, notes=(SourceNote("n-x", "report", "en", "forged?", "ceo"),))
    followup, events = _create(_cmd(notes=[NoteDraft("note", "en", "mine")]), source=source)
    assert {(n.author, n.created_at) for n in followup.notes} == {("a-9", NOW)}
    assert [n.copied_from.author if n.copied_from else None for n in followup.notes] == ["ceo", None]
    assert all(e.note.author == "a-9" for e in events if isinstance(e, NoteAppended))
    assert old not in {n.created_at for n in followup.notes}
