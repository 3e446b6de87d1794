"""The interaction record: its states, the rules of closing it, and how it reads back.

A record is stored as one document. Media items and their lifecycle segments are kept as maps keyed
by id (so that a segment that arrives twice, or before its contact started, merges into one entry);
they read back as lists ordered by time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

OPEN = "open"
CLOSED = "closed"
SELF_SERVICE = "self_service"
AGENT_SEGMENT_KINDS = frozenset({"agent", "consult"})
"""Segments in which a human agent handled the contact: such a contact does not close itself."""


class InteractionNotFound(Exception):
    """No interaction record has this id."""


class InteractionReadOnly(Exception):
    """The interaction is closed: it is a historical record and cannot change."""


class InteractionBusy(Exception):
    """The interaction is being completed by a bulk completion right now."""


class SelfServiceDecision(Enum):
    CLOSE = "close"      # ended, opened, no agent: close it with outcome self_service
    WAIT = "wait"        # not ended or not opened yet, or being completed: ask again later
    DROP = "drop"        # closed already or an agent handled it: nothing to do


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


def decide_self_service(record: Mapping[str, Any]) -> SelfServiceDecision:
    """Whether a contact that ended should close itself as self-service now."""
    if record.get("status") == CLOSED or record.get("has_agent"):
        return SelfServiceDecision.DROP
    if not record.get("contact_ended") or record.get("opened_at") is None or record.get("_completion"):
        return SelfServiceDecision.WAIT
    return SelfServiceDecision.CLOSE


def duration_s(opened_at: datetime | None, until: datetime | None) -> float | None:
    """How long the interaction lasted, in seconds; None when the start is unknown."""
    if opened_at is None or until is None:
        return None
    return max(0.0, round((until - opened_at).total_seconds(), 3))


def contact_ended_at(record: Mapping[str, Any]) -> datetime | None:
    """When the contact's media item ended, if it did."""
    ends = [m.get("ended_at") for m in (record.get("media") or {}).values() if m.get("ended_at")]
    return max(ends) if ends else None


def _by_start(item: Mapping[str, Any]) -> tuple[Any, ...]:
    started = item.get("started_at")
    return (started is None, started.timestamp() if started else 0.0, str(item.get("segment_id", "")))


def media_items_view(media: Mapping[str, Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    items = []
    for item in (media or {}).values():
        segments = sorted((dict(s) for s in (item.get("segments") or {}).values()), key=_by_start)
        items.append({**{k: v for k, v in item.items() if k != "segments"}, "segments": segments})
    return sorted(items, key=_by_start)


RECORD_FIELDS = (
    "interaction_id", "status", "origin", "contact_id", "callback_id", "channel", "direction",
    "from_address", "to_address", "queue", "account_hint", "account_id", "business_agreement_id",
    "premise_id", "identified_by", "agent_ids", "opened_at", "closed_at", "closed_by", "outcome",
    "result", "reason_code", "duration_s",
)
LIST_FIELDS = ("activities", "notes", "linked_objects", "late_events")


def record_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The record as the gateway answers it (internal fields and storage keys left out)."""
    view: dict[str, Any] = {name: doc.get(name) for name in RECORD_FIELDS}
    view["interaction_id"] = doc["_id"]
    view["status"] = doc.get("status", OPEN)
    view["agent_ids"] = sorted(doc.get("agent_ids") or [])
    view["media_items"] = media_items_view(doc.get("media"))
    for name in LIST_FIELDS:
        view[name] = list(doc.get(name) or [])
    view["attachments"] = [{k: v for k, v in a.items() if k != "file_id"} for a in doc.get("attachments") or []]
    return view


def summary_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A record in a list: the header without the lists."""
    return {name: doc.get(name) for name in RECORD_FIELDS} | {
        "interaction_id": doc["_id"], "status": doc.get("status", OPEN),
        "agent_ids": sorted(doc.get("agent_ids") or []),
    }
