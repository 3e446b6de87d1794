"""Topic ``ic.followups.v1``: follow-up transactions kept by the followups service, keyed by ``followup_id``.

Every event carries the ``account_id`` if the follow-up has one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import (
    MAX_LIST_ITEMS,
    Code,
    Count,
    Event,
    Id,
    InteractionChannel,
    LanguageTag,
    NoteText,
    Timestamp,
    Value,
)
from .personal import PERSONAL

TOPIC = "ic.followups.v1"

SourceType = Literal["interaction", "service_ticket", "service_order", "complaint", "case"]
FollowupType = Literal[
    "phone_call", "email", "visit", "task", "service_order", "sales_order", "complaint"
]
FollowupNoteType = Literal[
    "note", "report", "preparation", "business_partner_information", "correspondence", "internal"
]
FollowupStatus = Annotated[
    Code,
    Field(
        description="The follow-up status: open, in_process, completed or cancelled.",
        examples=["open"],
    ),
]


class SourceRef(Value):
    """The business object a follow-up was created from."""

    type: SourceType = Field(description="The kind of source object.", examples=["interaction"])
    id: Id = Field(description="The source object's id.", examples=["int-81c2"])


class _FollowupEvent(Event):
    topic = TOPIC
    key_field = "followup_id"

    followup_id: Id = Field(description="The follow-up.", examples=["fu-4410"])
    account_id: Id | None = Field(default=None, description="The account, if any.", examples=["acc-100200"])


class FollowupCreated(_FollowupEvent):
    """A follow-up transaction was created from a source object."""

    ce_type = "ic.followup.created.v1"

    source: SourceRef = Field(description="Where it was created from.")
    type: FollowupType = Field(description="The kind of follow-up.", examples=["phone_call"])
    channel: InteractionChannel = Field(description="The channel the follow-up is for.", examples=["phone"])
    status: FollowupStatus
    priority: Count = Field(description="The priority; higher is more urgent.", examples=[3])
    owner_id: Id | None = Field(default=None, description="Who is responsible.", examples=["a-17"])
    due_at: Timestamp | None = Field(default=None, description="When it is due.", examples=["2025-03-05T17:00:00+01:00"])
    planned_start: Timestamp | None = Field(
        default=None, description="Planned start.", examples=["2025-03-04T09:00:00+01:00"]
    )
    planned_end: Timestamp | None = Field(
        default=None, description="Planned end.", examples=["2025-03-04T10:00:00+01:00"]
    )
    reason_code: Code | None = Field(default=None, description="The reason.", examples=["meter_reading"])
    created_by: Id = Field(description="The agent or system that created it.", examples=["a-17"])
    created_at: Timestamp = Field(description="When it was created.", examples=["2025-03-01T09:21:00+01:00"])
    business_agreement_id: Id | None = Field(
        default=None, description="The business agreement, if any.", examples=["ba-300400"]
    )
    premise_id: Id | None = Field(default=None, description="The premise, if any.", examples=["pr-500600"])
    contact_person_id: Id | None = Field(
        default=None, description="The contact person at the account, if any.", examples=["acc-100201"]
    )


class FollowupUpdated(_FollowupEvent):
    """Fields of a follow-up were changed."""

    ce_type = "ic.followup.updated.v1"

    changed: Annotated[list[Code], Field(max_length=MAX_LIST_ITEMS)] = Field(
        description="The names of the fields that changed.", examples=[["due_at", "owner_id"]]
    )
    at: Timestamp = Field(description="When it changed.", examples=["2025-03-02T08:30:00+01:00"])
    by: Id = Field(description="Who changed it.", examples=["a-17"])


class FollowupNoteAdded(_FollowupEvent):
    """A note was appended to a follow-up's notes history."""

    ce_type = "ic.followup.note-added.v1"

    note_id: Id = Field(description="The note.", examples=["n-7"])
    type: FollowupNoteType = Field(description="The note type.", examples=["note"])
    language: LanguageTag = Field(description="The language of the text.", examples=["de"])
    text: Annotated[NoteText, PERSONAL] = Field(description="The note's text.", examples=["Call before noon."])
    author: Id = Field(description="Who wrote it.", examples=["a-17"])
    created_at: Timestamp = Field(description="When it was written.", examples=["2025-03-01T09:21:30+01:00"])


class FollowupStatusChanged(_FollowupEvent):
    """A follow-up moved to another status."""

    ce_type = "ic.followup.status-changed.v1"

    old_status: FollowupStatus
    new_status: FollowupStatus
    at: Timestamp = Field(description="When it changed.", examples=["2025-03-04T10:02:00+01:00"])
    by: Id = Field(description="Who changed it.", examples=["a-17"])


class FollowupOverdue(_FollowupEvent):
    """A follow-up passed its due time without being completed or cancelled."""

    ce_type = "ic.followup.overdue.v1"

    due_at: Timestamp = Field(description="When it was due.", examples=["2025-03-05T17:00:00+01:00"])
    at: Timestamp = Field(description="When it was found overdue.", examples=["2025-03-05T17:01:00+01:00"])


class FollowupDue(_FollowupEvent):
    """A call-type follow-up's planned start arrived: the call is now work for its owner (once per planned start)."""

    ce_type = "ic.followup.due.v1"

    owner_id: Id | None = Field(default=None, description="Who is to make the call, if anyone.", examples=["a-17"])
    type: FollowupType = Field(description="The kind of follow-up (a call type).", examples=["phone_call"])
    planned_start: Timestamp = Field(
        description="The planned start that arrived.", examples=["2025-03-04T09:00:00+01:00"]
    )


EVENT_TYPES = (
    FollowupCreated,
    FollowupUpdated,
    FollowupNoteAdded,
    FollowupStatusChanged,
    FollowupOverdue,
    FollowupDue,
)
