"""The follow-up transaction: its state, what can happen to it, and the rules every decision shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .customizing import display_area
from .errors import InvalidSchedule, NotOwner
from .notes import Note, NoteDraft

STATUSES = ("open", "in_process", "completed", "cancelled")
FINAL_STATUSES = frozenset({"completed", "cancelled"})
ACTIVE_STATUSES = ("open", "in_process")
TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    "open": ("in_process", "completed", "cancelled"),
    "in_process": ("open", "completed", "cancelled"),
    "completed": (),
    "cancelled": (),
}
# The follow-up types that are calls: their planned start makes them work for the owner (ic.followup.due.v1).
CALL_TYPES = ("phone_call",)
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
PRIVILEGED_ROLES = frozenset({"supervisor", "admin"})


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
    version: int = 1  # counts the changes of its fields (notes and reports do not count)
    parties: Mapping[str, str | None] = field(default_factory=dict)
    schedule: Schedule = Schedule()
    notes: tuple[Note, ...] = ()
    copied_fields: tuple[str, ...] = ()
    overdue_emitted: bool = False
    came_due_at: datetime | None = None  # when its planned start was reported as due (call types)
    awaiting_copy: tuple[str, ...] = ()  # fields to copy from the source once it knows them
    correlation_id: str | None = None

    @property
    def display_area(self) -> str:
        return display_area(self.source_type)

    @property
    def account_id(self) -> str | None:
        return self.parties.get("account_id")

    @property
    def owner_id(self) -> str | None:
        return self.parties.get("owner_id")

    def value_of(self, name: str) -> Any:
        if name in DATE_FIELDS:
            return getattr(self.schedule, name)
        if name in PARTY_FIELDS:
            return self.parties.get(name)
        return getattr(self, name)


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: the token's subject, and whether a role lets them change anyone's follow-up."""

    sub: str
    privileged: bool = False

    @staticmethod
    def of(sub: str, roles: frozenset[str] | set[str]) -> Actor:
        return Actor(sub, bool(PRIVILEGED_ROLES.intersection(roles)))


def check_may_change(followup: Followup, actor: Actor) -> None:
    """Only its owner or a supervisor (or an admin) changes a follow-up; one without an owner is anyone's."""
    if not (actor.privileged or followup.owner_id is None or followup.owner_id == actor.sub):
        raise NotOwner(followup.followup_id)


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


@dataclass(frozen=True)
class CameDue:
    planned_start: datetime
    at: datetime


FollowupEvent = FollowupOpened | NoteAppended | FieldsChanged | StatusChanged | OverdueDetected | CameDue


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


def is_planned(followup: Followup) -> bool:
    """Planned: still to do (open or in process) and scheduled (a planned start, end or due date)."""
    s = followup.schedule
    return followup.status in ACTIVE_STATUSES and any((s.planned_start, s.planned_end, s.due_at))
