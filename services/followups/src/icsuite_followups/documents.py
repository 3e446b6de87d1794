"""How follow-ups, notes and the customizing look as MongoDB documents, and back.

MongoDB keeps times in UTC; the offset a caller gave a date with is kept beside it (``tz_offsets``),
so a follow-up is read back in the time zone it was planned in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from .domain import (
    DATE_FIELDS,
    PARTY_FIELDS,
    CopiedFrom,
    CopyRule,
    CopyRules,
    Followup,
    FollowupTypeRules,
    Note,
    Schedule,
)


def _offset_of(value: datetime | None) -> int | None:
    offset = value.utcoffset() if value is not None else None
    return int(offset.total_seconds()) if offset is not None else None


def _with_offset(value: datetime | None, offset_s: int | None) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(timezone(timedelta(seconds=offset_s or 0)))


def note_to_doc(note: Note) -> dict[str, Any]:
    copied = note.copied_from
    return {"note_id": note.note_id, "type": note.type, "language": note.language, "text": note.text,
            "author": note.author, "created_at": note.created_at,
            "copied_from": None if copied is None else {"source_type": copied.source_type,
                                                        "source_id": copied.source_id,
                                                        "note_id": copied.note_id}}


def note_from_doc(doc: Mapping[str, Any]) -> Note:
    copied = doc.get("copied_from")
    return Note(note_id=doc["note_id"], type=doc["type"], language=doc["language"], text=doc["text"],
                author=doc["author"], created_at=doc["created_at"],
                copied_from=CopiedFrom(**copied) if copied else None)


def schedule_fields(schedule: Schedule) -> dict[str, Any]:
    """The dates in UTC and the offsets they were given with."""
    values = {name: getattr(schedule, name) for name in DATE_FIELDS}
    return {**values, "tz_offsets": {name: _offset_of(v) for name, v in values.items()}}


def followup_to_doc(f: Followup, *, correlation_id: str | None) -> dict[str, Any]:
    return {
        "_id": f.followup_id, "source": {"type": f.source_type, "id": f.source_id}, "type": f.type,
        "channel": f.channel, "status": f.status, "priority": f.priority,
        **{name: f.parties.get(name) for name in PARTY_FIELDS}, **schedule_fields(f.schedule),
        "created_by": f.created_by, "created_at": f.created_at, "updated_at": f.updated_at,
        "version": f.version, "notes": [note_to_doc(n) for n in f.notes], "notes_count": len(f.notes),
        "copied_fields": list(f.copied_fields), "overdue_emitted": f.overdue_emitted,
        "awaiting_copy": list(f.awaiting_copy), "correlation_id": correlation_id,
    }


def followup_from_doc(doc: Mapping[str, Any]) -> Followup:
    offsets = doc.get("tz_offsets") or {}
    schedule = Schedule(**{name: _with_offset(doc.get(name), offsets.get(name)) for name in DATE_FIELDS})
    return Followup(
        followup_id=doc["_id"], source_type=doc["source"]["type"], source_id=doc["source"]["id"],
        type=doc["type"], channel=doc["channel"], status=doc["status"], priority=doc["priority"],
        created_by=doc["created_by"], created_at=doc["created_at"], updated_at=doc["updated_at"],
        version=doc["version"], parties={name: doc.get(name) for name in PARTY_FIELDS}, schedule=schedule,
        notes=tuple(note_from_doc(n) for n in doc.get("notes") or ()),
        copied_fields=tuple(doc.get("copied_fields") or ()), overdue_emitted=bool(doc.get("overdue_emitted")),
        awaiting_copy=tuple(doc.get("awaiting_copy") or ()),
    )


def type_rules_to_doc(rules: FollowupTypeRules) -> dict[str, Any]:
    return {"channels": {k: list(v) for k, v in rules.channels.items()},
            "source_types": {k: list(v) for k, v in rules.source_types.items()}}


def type_rules_from_doc(doc: Mapping[str, Any]) -> FollowupTypeRules:
    return FollowupTypeRules(channels={k: tuple(v) for k, v in doc["channels"].items()},
                             source_types={k: tuple(v) for k, v in doc["source_types"].items()})


def copy_rules_to_doc(rules: CopyRules) -> dict[str, Any]:
    return {"source_types": {k: {"fields": list(r.fields), "note_types": list(r.note_types)}
                             for k, r in rules.source_types.items()}}


def copy_rules_from_doc(doc: Mapping[str, Any]) -> CopyRules:
    return CopyRules(source_types={k: CopyRule(fields=tuple(r["fields"]), note_types=tuple(r["note_types"]))
                                   for k, r in doc["source_types"].items()})
