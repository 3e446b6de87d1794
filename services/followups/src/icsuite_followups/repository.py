"""MongoDB storage of follow-ups and the customizing.

Every change is one single-document write that carries its events in the document's outbox. Notes are
only ever appended (``$push``): no code path rewrites or removes an element of ``notes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from icsuite_chassis.mongo import IndexSpec, is_duplicate_key
from icsuite_chassis.outbox import outbox_entries, outbox_push
from icsuite_chassis.pagination import decode_cursor, encode_cursor
from icsuite_chassis.problems import Unprocessable
from icsuite_contracts.cloudevents import Envelope
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from .documents import followup_from_doc, followup_to_doc, note_to_doc, schedule_fields
from .domain import ACTIVE_STATUSES, MAX_NOTES, PARTY_FIELDS, Followup, Note

FOLLOWUPS = "followups"
CUSTOMIZING = "customizing"
_WITHOUT_INTERNALS = {"_outbox": 0, "_applied": 0}
_SUMMARY = {**_WITHOUT_INTERNALS, "notes": 0}
# Real MongoDB uses these; the local MongoDB-wire server scans (see the README).
INDEXES = [
    IndexSpec(FOLLOWUPS, [("account_id", 1), ("created_at", -1), ("_id", -1)]),
    IndexSpec(FOLLOWUPS, [("source.type", 1), ("source.id", 1), ("created_at", -1), ("_id", -1)]),
    IndexSpec(FOLLOWUPS, [("overdue_emitted", 1), ("due_at", 1)]),
]


def _page_filter(cursor: str | None) -> dict[str, Any]:
    position = decode_cursor(cursor, required_keys=("t", "i"))
    if position is None:
        return {}
    try:
        at = datetime.fromisoformat(str(position["t"]))
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise Unprocessable("the cursor is malformed", slug="invalid-cursor")
    return {"$or": [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": str(position["i"])}}]}


class FollowupRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._col = db[FOLLOWUPS]

    async def add(self, followup: Followup, events: Sequence[Envelope], *, correlation_id: str | None) -> None:
        doc = followup_to_doc(followup, correlation_id=correlation_id)
        await self._col.insert_one({**doc, "_outbox": outbox_entries(events)})

    async def get(self, followup_id: str) -> Followup | None:
        doc = await self._col.find_one({"_id": followup_id}, _WITHOUT_INTERNALS)
        return followup_from_doc(doc) if doc else None

    async def correlation_of(self, followup_id: str) -> str | None:
        doc = await self._col.find_one({"_id": followup_id}, {"correlation_id": 1})
        return (doc or {}).get("correlation_id")

    async def save_changes(self, before: Followup, after: Followup, events: Sequence[Envelope]) -> bool:
        """Store ``after`` if nobody changed the follow-up since ``before`` was read (optimistic)."""
        state: dict[str, Any] = {"status": after.status, "priority": after.priority,
                                 "updated_at": after.updated_at, "version": after.version,
                                 "copied_fields": list(after.copied_fields),
                                 "awaiting_copy": list(after.awaiting_copy),
                                 **{n: after.parties.get(n) for n in PARTY_FIELDS},
                                 **schedule_fields(after.schedule)}
        if after.schedule.due_at != before.schedule.due_at:
            state["overdue_emitted"] = False  # a new due date can be missed again
        result = await self._col.update_one({"_id": before.followup_id, "version": before.version},
                                            {"$set": state, **outbox_push(events)})
        return result.matched_count == 1

    async def append_note(self, followup_id: str, note: Note, events: Sequence[Envelope]) -> bool:
        """Append ``note`` unless the history is full; False when the follow-up has no room (or is gone)."""
        result = await self._col.update_one(
            {"_id": followup_id, "notes_count": {"$lt": MAX_NOTES}},
            {"$push": {"notes": note_to_doc(note), "_outbox": {"$each": outbox_entries(events)}},
             "$inc": {"notes_count": 1}})
        return result.matched_count == 1

    async def overdue_candidates(self, now: datetime, limit: int) -> list[Followup]:
        cursor = self._col.find({"overdue_emitted": False, "due_at": {"$lte": now},
                                 "status": {"$in": list(ACTIVE_STATUSES)}}, _SUMMARY).limit(limit)
        return [followup_from_doc(doc) async for doc in cursor]

    async def mark_overdue(self, followup: Followup, now: datetime, events: Sequence[Envelope]) -> bool:
        """Record the overdue report and its event once: only the first of concurrent callers matches."""
        result = await self._col.update_one(
            {"_id": followup.followup_id, "overdue_emitted": False, "due_at": followup.schedule.due_at,
             "status": {"$in": list(ACTIVE_STATUSES)}},
            {"$set": {"overdue_emitted": True, "overdue_at": now}, **outbox_push(events)})
        return result.modified_count == 1

    async def page(self, match: Mapping[str, Any], *, cursor: str | None,
                   limit: int) -> tuple[list[Followup], str | None]:
        """Follow-ups matching ``match``, newest first, without their notes."""
        after = _page_filter(cursor)
        query = {"$and": [dict(match), after]} if after else dict(match)
        found = self._col.find(query, _SUMMARY).sort([("created_at", -1), ("_id", -1)]).limit(limit + 1)
        docs = [doc async for doc in found]
        items = [followup_from_doc(doc) for doc in docs[:limit]]
        next_cursor = None
        if len(docs) > limit:
            last = items[-1]
            next_cursor = encode_cursor({"t": last.created_at.isoformat(), "i": last.followup_id})
        return items, next_cursor


class CustomizingRepository:
    """The customizing documents (``followup-types``, ``copy-rules``), each with a version."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._col = db[CUSTOMIZING]

    async def seed(self, name: str, value: Mapping[str, Any], now: datetime) -> None:
        """Store the defaults unless a value exists: safe when several replicas start at once."""
        try:
            await self._col.update_one(
                {"_id": name},
                {"$setOnInsert": {"value": dict(value), "version": 1, "updated_at": now, "updated_by": "seed"}},
                upsert=True)
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise

    async def get(self, name: str) -> dict[str, Any] | None:
        return await self._col.find_one({"_id": name})

    async def replace(self, name: str, value: Mapping[str, Any], *, by: str, now: datetime,
                      expected_version: int | None) -> dict[str, Any] | None:
        """The new document, or None when ``expected_version`` is given and is not the current one."""
        match: dict[str, Any] = {"_id": name}
        if expected_version is not None:
            match["version"] = expected_version
        try:
            return await self._col.find_one_and_update(
                match, {"$set": {"value": dict(value), "updated_at": now, "updated_by": by},
                        "$inc": {"version": 1}},
                upsert=expected_version is None, return_document=ReturnDocument.AFTER)
        except Exception as exc:
            if is_duplicate_key(exc):
                return None
            raise
