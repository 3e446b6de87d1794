"""Follow-ups and the customizing as MongoDB documents (the store's codecs), and the read queries.

The store writes them (:mod:`icsuite_chassis.store`); this module only says how a state looks as a
document and how the lists read them. MongoDB keeps times in UTC; the offset a caller gave a date with
is kept beside it (``tz_offsets``), so a follow-up is read back in the time zone it was planned in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.pagination import InvalidCursor, decode_cursor, encode_cursor
from icsuite_chassis.store import store_indexes
from pymongo.asynchronous.database import AsyncDatabase

from .domain import (
    ACTIVE_STATUSES,
    CALL_TYPES,
    DATE_FIELDS,
    PARTY_FIELDS,
    Configured,
    CopiedFrom,
    CopyRule,
    CopyRules,
    Followup,
    FollowupTypeRules,
    Note,
    Schedule,
)

FOLLOWUPS = "followups"
CUSTOMIZING = "customizing"
FOLLOWUP_TYPES_CONFIG = "followup-types"
COPY_RULES_CONFIG = "copy-rules"
_SUMMARY = {"_outbox": 0, "_applied": 0, "notes": 0}
INDEXES = [
    IndexSpec(FOLLOWUPS, [("account_id", 1), ("created_at", -1), ("_id", -1)]),
    IndexSpec(FOLLOWUPS, [("source.type", 1), ("source.id", 1), ("created_at", -1), ("_id", -1)]),
    IndexSpec(FOLLOWUPS, [("overdue_emitted", 1), ("due_at", 1)]),
    IndexSpec(FOLLOWUPS, [("came_due_at", 1), ("planned_start", 1)]),
    *store_indexes(FOLLOWUPS),
    *store_indexes(CUSTOMIZING),
]


def _offset_of(value: datetime | None) -> int | None:
    offset = value.utcoffset() if value is not None else None
    return int(offset.total_seconds()) if offset is not None else None


def _with_offset(value: datetime | None, offset_s: int | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(timezone(timedelta(seconds=offset_s or 0)))


def _note_to_doc(note: Note) -> dict[str, Any]:
    copied = note.copied_from
    return {"note_id": note.note_id, "type": note.type, "language": note.language, "text": note.text,
            "author": note.author, "created_at": note.created_at,
            "copied_from": None if copied is None else {"source_type": copied.source_type,
                                                        "source_id": copied.source_id,
                                                        "note_id": copied.note_id, "author": copied.author}}


def _note_from_doc(doc: Mapping[str, Any]) -> Note:
    copied = doc.get("copied_from")
    return Note(note_id=doc["note_id"], type=doc["type"], language=doc["language"], text=doc["text"],
                author=doc["author"], created_at=doc["created_at"],
                copied_from=CopiedFrom(**copied) if copied else None)


class FollowupCodec:
    """A follow-up as its document's fields (the store adds ``_id``, ``_version``, ``_applied``, ``_outbox``)."""

    def encode(self, f: Followup) -> dict[str, Any]:
        dates = {name: getattr(f.schedule, name) for name in DATE_FIELDS}
        return {
            "followup_id": f.followup_id, "source": {"type": f.source_type, "id": f.source_id}, "type": f.type,
            "channel": f.channel, "status": f.status, "priority": f.priority,
            **{name: f.parties.get(name) for name in PARTY_FIELDS}, **dates,
            "tz_offsets": {name: _offset_of(v) for name, v in dates.items()},
            "created_by": f.created_by, "created_at": f.created_at, "updated_at": f.updated_at,
            "version": f.version, "notes": [_note_to_doc(n) for n in f.notes],
            "copied_fields": list(f.copied_fields), "overdue_emitted": f.overdue_emitted, "came_due_at": f.came_due_at,
            "awaiting_copy": list(f.awaiting_copy), "correlation_id": f.correlation_id,
        }

    def decode(self, doc: Mapping[str, Any]) -> Followup:
        offsets = doc.get("tz_offsets") or {}
        schedule = Schedule(**{name: _with_offset(doc.get(name), offsets.get(name)) for name in DATE_FIELDS})
        return Followup(
            followup_id=doc["followup_id"], source_type=doc["source"]["type"], source_id=doc["source"]["id"],
            type=doc["type"], channel=doc["channel"], status=doc["status"], priority=doc["priority"],
            created_by=doc["created_by"], created_at=doc["created_at"], updated_at=doc["updated_at"],
            version=doc["version"], parties={name: doc.get(name) for name in PARTY_FIELDS}, schedule=schedule,
            notes=tuple(_note_from_doc(n) for n in doc.get("notes") or ()),
            copied_fields=tuple(doc.get("copied_fields") or ()), overdue_emitted=bool(doc.get("overdue_emitted")),
            came_due_at=doc.get("came_due_at"),
            awaiting_copy=tuple(doc.get("awaiting_copy") or ()), correlation_id=doc.get("correlation_id"),
        )


class TypeRulesCodec:
    def encode(self, c: Configured[FollowupTypeRules]) -> dict[str, Any]:
        value = {"channels": {k: list(v) for k, v in c.rules.channels.items()},
                 "source_types": {k: list(v) for k, v in c.rules.source_types.items()}}
        return {"value": value, "version": c.version, "updated_at": c.updated_at, "updated_by": c.updated_by}

    def decode(self, doc: Mapping[str, Any]) -> Configured[FollowupTypeRules]:
        value = doc["value"]
        rules = FollowupTypeRules(channels={k: tuple(v) for k, v in value["channels"].items()},
                                  source_types={k: tuple(v) for k, v in value["source_types"].items()})
        return Configured(rules, doc["version"], doc["updated_at"], doc["updated_by"])


class CopyRulesCodec:
    def encode(self, c: Configured[CopyRules]) -> dict[str, Any]:
        value = {"source_types": {k: {"fields": list(r.fields), "note_types": list(r.note_types)}
                                  for k, r in c.rules.source_types.items()}}
        return {"value": value, "version": c.version, "updated_at": c.updated_at, "updated_by": c.updated_by}

    def decode(self, doc: Mapping[str, Any]) -> Configured[CopyRules]:
        rules = CopyRules(source_types={k: CopyRule(fields=tuple(r["fields"]), note_types=tuple(r["note_types"]))
                                        for k, r in doc["value"]["source_types"].items()})
        return Configured(rules, doc["version"], doc["updated_at"], doc["updated_by"])


# --- what the periodic jobs and the copying control look for (filters the store's change_first reads) ---
def overdue_filter(now: datetime) -> dict[str, Any]:
    """Follow-ups :func:`~icsuite_followups.domain.is_overdue` accepts at ``now``."""
    return {"overdue_emitted": False, "due_at": {"$lte": now}, "status": {"$in": list(ACTIVE_STATUSES)}}


OVERDUE_ORDER = [("overdue_emitted", 1), ("due_at", 1)]


def due_filter(now: datetime) -> dict[str, Any]:
    """Follow-ups :func:`~icsuite_followups.domain.is_coming_due` accepts at ``now`` (no ``came_due_at``
    matches a document without the field too)."""
    return {"came_due_at": None, "planned_start": {"$lte": now}, "type": {"$in": list(CALL_TYPES)},
            "status": {"$in": list(ACTIVE_STATUSES)}}


DUE_ORDER = [("came_due_at", 1), ("planned_start", 1)]


def owned_active_filter() -> dict[str, Any]:
    """Follow-ups open or in process that have an owner: each owner's open work."""
    return {"status": {"$in": list(ACTIVE_STATUSES)}, "owner_id": {"$ne": None}}


def awaiting_copy_filter(interaction_ids: list[str]) -> dict[str, Any]:
    """Follow-ups created from these interactions that still await a field their events may tell."""
    return {"source.type": "interaction", "source.id": {"$in": interaction_ids}, "awaiting_copy": {"$ne": []}}


def account_filter(account_id: str, status: str | None) -> dict[str, Any]:
    """An account's follow-ups; ``planned`` means open or in process, and scheduled (``domain.is_planned``)."""
    match: dict[str, Any] = {"account_id": account_id}
    if status == "planned":
        match["status"] = {"$in": list(ACTIVE_STATUSES)}
        match["$or"] = [{name: {"$ne": None}} for name in DATE_FIELDS]
    elif status is not None:
        match["status"] = status
    return match


def _page_filter(cursor: str | None) -> dict[str, Any]:
    position = decode_cursor(cursor, required_keys=("t", "i"))
    if position is None:
        return {}
    try:
        at = datetime.fromisoformat(str(position["t"]))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise InvalidCursor()
    return {"$or": [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": str(position["i"])}}]}


class FollowupReads:
    """The read queries of the lists (the store reads and writes single follow-ups)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._col = db[FOLLOWUPS]
        self._codec = FollowupCodec()

    async def awaiting_copy(self, interaction_ids: list[str], limit: int) -> dict[str, list[str]]:
        """The ids of the follow-ups awaiting a copy, per interaction."""
        found: dict[str, list[str]] = {}
        async for doc in self._col.find(awaiting_copy_filter(interaction_ids), {"source": 1}).limit(limit):
            found.setdefault(doc["source"]["id"], []).append(doc["_id"])
        return found

    async def page(self, match: Mapping[str, Any], *, cursor: str | None,
                   limit: int) -> tuple[list[Followup], str | None]:
        """Follow-ups matching ``match``, newest first, without their notes."""
        after = _page_filter(cursor)
        query = {"$and": [dict(match), after]} if after else dict(match)
        found = self._col.find(query, _SUMMARY).sort([("created_at", -1), ("_id", -1)]).limit(limit + 1)
        docs = [doc async for doc in found]
        items = [self._codec.decode(doc) for doc in docs[:limit]]
        next_cursor = None
        if len(docs) > limit:
            last = items[-1]
            next_cursor = encode_cursor({"t": last.created_at.isoformat(), "i": last.followup_id})
        return items, next_cursor
