"""The follow-up transaction: its creation from a source, its life cycle, its notes and its due date."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .copying import SourceSnapshot, copy_from_source
from .customizing import CopyRule, CopyRules, FollowupTypeRules, display_area
from .errors import FollowupFinished, InvalidSchedule, InvalidTransition
from .notes import MAX_NOTES, Note, NoteDraft, appended, check_room, note_from_draft

STATUSES = ("open", "in_process", "completed", "cancelled")
FINAL_STATUSES = frozenset({"completed", "cancelled"})
ACTIVE_STATUSES = ("open", "in_process")
TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    "open": ("in_process", "completed", "cancelled"),
    "in_process": ("open", "completed", "cancelled"),
    "completed": (),
    "cancelled": (),
}
DEFAULT_PRIORITY = 5
PARTY_FIELDS = ("account_id", "business_agreement_id", "premise_id", "contact_person_id", "reason_code",
                "owner_id")
DATE_FIELDS = ("planned_start", "planned_end", "due_at")
PATCHABLE_FIELDS = ("status", "priority", *PARTY_FIELDS, *DATE_FIELDS)
# Sources known through their events, which can arrive after a follow-up was created from them.
PROJECTED_SOURCE_TYPES = frozenset({"interaction"})
# What identification establishes: copied later when the source learns it after the follow-up was created.
LATE_COPIED_FIELDS = ("account_id", "business_agreement_id", "premise_id")
ACCOUNT_BOUND_FIELDS = ("business_agreement_id", "premise_id")
COPYING_CONTROL = "copying-control"


@dataclass(frozen=True)
class Schedule:
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    due_at: datetime | None = None

    def validated(self) -> Schedule:
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            raise InvalidSchedule("planned_end is before planned_start")
        return self


@dataclass(frozen=True)
class Followup:
    followup_id: str
    source_type: str
    source_id: str
    type: str
    channel: str
    status: str
    priority: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    parties: Mapping[str, str | None] = field(default_factory=dict)
    schedule: Schedule = Schedule()
    notes: tuple[Note, ...] = ()
    copied_fields: tuple[str, ...] = ()
    overdue_emitted: bool = False
    awaiting_copy: tuple[str, ...] = ()  # fields to copy from the source once it knows them

    @property
    def display_area(self) -> str:
        return display_area(self.source_type)

    @property
    def account_id(self) -> str | None:
        return self.parties.get("account_id")

    def value_of(self, name: str) -> Any:
        if name in DATE_FIELDS:
            return getattr(self.schedule, name)
        if name in PARTY_FIELDS:
            return self.parties.get(name)
        return getattr(self, name)


# What happened to a follow-up: the service turns each into its ic.followup.*.v1 event.
@dataclass(frozen=True)
class FollowupOpened:
    followup: Followup


@dataclass(frozen=True)
class NoteAppended:
    note: Note


@dataclass(frozen=True)
class FieldsChanged:
    changed: tuple[str, ...]
    at: datetime
    by: str


@dataclass(frozen=True)
class StatusChanged:
    old_status: str
    new_status: str
    at: datetime
    by: str


@dataclass(frozen=True)
class OverdueDetected:
    due_at: datetime
    at: datetime


FollowupEvent = FollowupOpened | NoteAppended | FieldsChanged | StatusChanged | OverdueDetected


@dataclass(frozen=True)
class NewFollowup:
    """The command to create a follow-up, as the gateway understood the request."""

    source_type: str
    source_id: str
    type: str
    channel: str
    requested: Mapping[str, str | None] = field(default_factory=dict)
    schedule: Schedule = Schedule()
    priority: int | None = None
    notes: Sequence[NoteDraft] = ()
    scratch_pad: NoteDraft | None = None

    def drafts(self) -> list[NoteDraft]:
        return [*self.notes, *([self.scratch_pad] if self.scratch_pad else [])]


def create_followup(cmd: NewFollowup, *, followup_id: str, author: str, now: datetime, note_ids: Sequence[str],
                    type_rules: FollowupTypeRules, copy_rules: CopyRules,
                    source: SourceSnapshot) -> tuple[Followup, list[FollowupEvent]]:
    """A new open follow-up: type permitted, dates consistent, fields and notes copied by the rule.

    The history starts with the notes copied from the source, then the request's notes, then the
    scratch-pad text. ``note_ids`` holds one id per note of the request and the scratch pad.
    """
    type_rules.check(channel=cmd.channel, source_type=cmd.source_type, followup_type=cmd.type)
    schedule = cmd.schedule.validated()
    drafts = cmd.drafts()
    check_room(0, len(drafts))
    own = [note_from_draft(d, note_id=i, author=author, now=now) for d, i in zip(drafts, note_ids, strict=True)]
    copy = copy_from_source(copy_rules.for_source(cmd.source_type), source, cmd.requested,
                            source_type=cmd.source_type, source_id=cmd.source_id,
                            room_for_notes=MAX_NOTES - len(own))
    followup = Followup(
        followup_id=followup_id, source_type=cmd.source_type, source_id=cmd.source_id, type=cmd.type,
        channel=cmd.channel, status="open",
        priority=DEFAULT_PRIORITY if cmd.priority is None else cmd.priority,
        created_by=author, created_at=now, updated_at=now,
        parties={k: copy.values.get(k) for k in PARTY_FIELDS}, schedule=schedule,
        notes=appended((), [*copy.notes, *own]), copied_fields=copy.copied_fields,
        awaiting_copy=tuple(n for n in LATE_COPIED_FIELDS if n in copy_rules.for_source(cmd.source_type).fields
                            and copy.values.get(n) is None) if cmd.source_type in PROJECTED_SOURCE_TYPES else (),
    )
    return followup, [FollowupOpened(followup), *(NoteAppended(n) for n in followup.notes)]


def change_followup(followup: Followup, changes: Mapping[str, Any], *, by: str,
                    now: datetime) -> tuple[Followup, list[FollowupEvent]]:
    """Apply a partial update; no event when nothing actually changes."""
    unknown = set(changes).difference(PATCHABLE_FIELDS)
    if unknown:
        raise ValueError(f"fields that cannot be changed: {sorted(unknown)}")
    changed = tuple(name for name in PATCHABLE_FIELDS
                    if name in changes and changes[name] != followup.value_of(name))
    if not changed:
        return followup, []
    if followup.status in FINAL_STATUSES:
        raise FollowupFinished(followup.status)
    new_status = changes.get("status", followup.status)
    if new_status != followup.status and new_status not in TRANSITIONS[followup.status]:
        raise InvalidTransition(followup.status, new_status, TRANSITIONS[followup.status])
    fields = [name for name in changed if name != "status"]
    schedule = replace(followup.schedule, **{n: changes[n] for n in fields if n in DATE_FIELDS}).validated()
    updated = replace(
        followup, status=new_status, schedule=schedule, updated_at=now, version=followup.version + 1,
        priority=changes.get("priority", followup.priority),
        parties={**followup.parties, **{n: changes[n] for n in fields if n in PARTY_FIELDS}},
        overdue_emitted=followup.overdue_emitted and "due_at" not in fields,
        awaiting_copy=_still_awaited(followup.awaiting_copy, fields),
    )
    events: list[FollowupEvent] = []
    if fields:
        events.append(FieldsChanged(tuple(fields), now, by))
    if new_status != followup.status:
        events.append(StatusChanged(followup.status, new_status, now, by))
    return updated, events


def _still_awaited(awaiting: tuple[str, ...], changed_by_agent: Sequence[str]) -> tuple[str, ...]:
    """An agent's value is never replaced; an agent who chose the account chose its agreement and premise."""
    if "account_id" in changed_by_agent:
        return ()
    return tuple(n for n in awaiting if n not in changed_by_agent)


def complete_copy(followup: Followup, rule: CopyRule, source: SourceSnapshot, *,
                  now: datetime) -> tuple[Followup, list[FollowupEvent]]:
    """Copy what the source learned after the follow-up was created from it, in every status.

    Only fields the follow-up still awaits (unset at creation, untouched by agents since) and the rule
    still copies; a business agreement or premise not when the follow-up has another account than the source. The
    fields the rule no longer copies are no longer awaited. No event when nothing is copied.
    """
    awaited = [n for n in followup.awaiting_copy if n in rule.fields]
    values = {n: source.fields[n] for n in awaited
              if followup.parties.get(n) is None and source.fields.get(n) is not None}
    account = values.get("account_id", followup.account_id)
    if account is not None and account != source.fields.get("account_id"):
        values = {n: v for n, v in values.items() if n not in ACCOUNT_BOUND_FIELDS}
    awaiting = tuple(n for n in awaited if n not in values)
    if not values:
        return replace(followup, awaiting_copy=awaiting), []
    copied = tuple(n for n in LATE_COPIED_FIELDS if n in values)
    updated = replace(followup, parties={**followup.parties, **values}, updated_at=now,
                      version=followup.version + 1, awaiting_copy=awaiting,
                      copied_fields=(*followup.copied_fields, *copied))
    return updated, [FieldsChanged(copied, now, COPYING_CONTROL)]


def append_note(followup: Followup, draft: NoteDraft, *, note_id: str, author: str,
                now: datetime) -> tuple[Note, NoteAppended]:
    """A note for the end of the history; notes may be appended in every status."""
    check_room(len(followup.notes), 1)
    note = note_from_draft(draft, note_id=note_id, author=author, now=now)
    return note, NoteAppended(note)


def detect_overdue(followup: Followup, now: datetime) -> OverdueDetected | None:
    """The follow-up became overdue: due, not finished, and not yet reported for this due date."""
    due = followup.schedule.due_at
    if due is None or due > now or followup.status in FINAL_STATUSES or followup.overdue_emitted:
        return None
    return OverdueDetected(due_at=due, at=now)


def is_planned(followup: Followup) -> bool:
    """Planned: still to do (open or in process) and scheduled (a planned start, end or due date)."""
    s = followup.schedule
    return followup.status in ACTIVE_STATUSES and any((s.planned_start, s.planned_end, s.due_at))
