"""The interaction record as a typed aggregate: its parts, and the one rule that a closed record is read-only.

A record is a container for one customer touch point: media items (the call, a fax sent, an e-mail) each
with lifecycle segments, activities, notes, attachments, linked objects, the scratch pad, and the header
(origin, channel, account, outcome...). The decisions in :mod:`.intake` (consumed events) and
:mod:`.rules` (gateway commands) take a record and answer a new one; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from icsuite_contracts.interactions_v1 import MAX_DURATION_S

T = TypeVar("T")
OPEN = "open"
CLOSED = "closed"
SELF_SERVICE = "self_service"
AGENT_SEGMENT_KINDS = frozenset({"agent", "consult"})
"""Segments in which a human agent handled the contact: such a contact does not close itself."""


@dataclass(frozen=True)
class Segment:
    segment_id: str
    kind: str
    started_at: datetime
    agent_id: str | None = None
    queue: str | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class MediaItem:
    """One medium of the interaction (the call, a fax sent, an e-mail received), with its segments by id."""

    media_item_id: str
    media: str | None = None
    direction: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    segments: Mapping[str, Segment] = field(default_factory=dict)


@dataclass(frozen=True)
class Note:
    note_id: str
    type: str
    language: str
    text: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class Activity:
    activity_id: str
    kind: str
    at: datetime
    agent_id: str | None
    details: Mapping[str, str]
    media_item_id: str | None = None


@dataclass(frozen=True)
class Attachment:
    attachment_id: str
    name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    file_id: object = None  # where the content is stored; never shown


@dataclass(frozen=True)
class LinkedObject:
    type: str
    id: str


@dataclass(frozen=True)
class LateEvent:
    """An event that arrived for a closed record: kept, and changes nothing else."""

    event_id: str
    type: str
    source: str
    received_at: datetime
    data: Mapping[str, object]


@dataclass(frozen=True)
class ScratchPad:
    text: str
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class Identification:
    """How the account was linked: ``automatic`` (a unique automatic match) or ``confirmed``."""

    kind: str
    method: str
    agent_id: str | None = None


@dataclass(frozen=True)
class Record:
    interaction_id: str
    created_at: datetime
    status: str = OPEN
    origin: str | None = None
    contact_id: str | None = None
    callback_id: str | None = None
    attempt: int | None = None
    channel: str | None = None
    direction: str | None = None
    from_address: str | None = None
    to_address: str | None = None
    queue: str | None = None
    account_hint: str | None = None
    account_id: str | None = None
    business_agreement_id: str | None = None
    premise_id: str | None = None
    identification: Identification | None = None
    link_sequence: int = 0  # counts the account links, so that the timeline keeps the newest in any order
    agent_ids: tuple[str, ...] = ()
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    outcome: str | None = None
    result: str | None = None
    reason_code: str | None = None
    duration_s: float | None = None
    contact_ended: bool = False
    has_agent: bool = False
    self_service_due_at: datetime | None = None
    media: Mapping[str, MediaItem] = field(default_factory=dict)
    activities: tuple[Activity, ...] = ()
    notes: tuple[Note, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    linked_objects: tuple[LinkedObject, ...] = ()
    late_events: tuple[LateEvent, ...] = ()
    late_events_dropped: int = 0
    scratch_pad: ScratchPad | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def read_only(self) -> bool:
        """THE rule: a closed record is a historical record; nothing changes it any more."""
        return self.status == CLOSED

    def with_agents(self, *agent_ids: str | None) -> tuple[str, ...]:
        """The record's agents with ``agent_ids`` added (sorted, no duplicates)."""
        return tuple(sorted(set(self.agent_ids) | {a for a in agent_ids if a}))

    def contact_ended_at(self) -> datetime | None:
        """When the last media item ended, if any did."""
        ends = [item.ended_at for item in self.media.values() if item.ended_at is not None]
        return max(ends) if ends else None


def duration_s(opened_at: datetime | None, until: datetime | None) -> float | None:
    """How long the interaction lasted, in seconds (at most a year, what the contract carries); None when the
    start is unknown."""
    if opened_at is None or until is None:
        return None
    return min(MAX_DURATION_S, max(0.0, round((until - opened_at).total_seconds(), 3)))


def changed(part: T, **fields: Any) -> T:
    """``dataclasses.replace`` for the record and its parts, several times cheaper: a new instance whose
    attributes are the original's with ``fields`` set, without running ``__init__`` again for the record's
    forty fields (none of these classes has a ``__post_init__`` or slots). Consumed events call it twice each
    (the media item, then the record)."""
    known = part.__dataclass_fields__  # type: ignore[attr-defined]
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise TypeError(f"{type(part).__name__} has no field {unknown[0]!r}")
    copied = object.__new__(type(part))
    attributes = copied.__dict__  # written directly: a frozen dataclass refuses setattr, also on a new copy
    attributes.update(part.__dict__)
    attributes.update(fields)
    return copied
