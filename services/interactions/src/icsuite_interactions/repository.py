"""The interaction records in MongoDB: the codec between :class:`Record` and its document, and the read queries.

Every change goes through the chassis's aggregate store (``MongoAggregateStore(db, "interactions",
RecordCodec())``); this module only reads. The document keeps media items and their segments as maps keyed
by id (:func:`field_key`), so that a segment that arrives twice, or before its contact started, merges
into one entry; they read back as lists ordered by time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.store import Stored, store_indexes
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from .domain.ids import field_key
from .domain.record import (
    Activity,
    Attachment,
    Identification,
    LateEvent,
    LinkedObject,
    MediaItem,
    Note,
    Record,
    ScratchPad,
    Segment,
)

INTERACTIONS = "interactions"
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
SELF_SERVICE_DUE = [("self_service_due_at", 1)]
INDEXES = (
    IndexSpec(INTERACTIONS, [("agent_ids", 1), ("status", 1), ("created_at", -1)]),
    IndexSpec(INTERACTIONS, [("account_id", 1), ("status", 1)]),
    IndexSpec(INTERACTIONS, [("callback_id", 1), ("status", 1)]),
    IndexSpec(INTERACTIONS, SELF_SERVICE_DUE, options={"sparse": True}),
    *store_indexes(INTERACTIONS),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HIDDEN = {"_outbox": 0, "_applied": 0}
_SCALARS = ("status", "origin", "contact_id", "callback_id", "attempt", "channel", "direction", "from_address",
            "to_address", "queue", "account_hint", "account_id", "business_agreement_id", "premise_id",
            "opened_at", "closed_at", "closed_by", "outcome", "result", "reason_code", "duration_s",
            "self_service_due_at", "created_at")


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _encode_item(item: MediaItem) -> dict[str, Any]:
    segments = {field_key(s.segment_id): _present(vars(s)) for s in item.segments.values()}
    return {**_present({k: v for k, v in vars(item).items() if k != "segments"}), "segments": segments}


def _decode_item(doc: Mapping[str, Any]) -> MediaItem:
    segments = {s["segment_id"]: Segment(**s) for s in (doc.get("segments") or {}).values()}
    return MediaItem(doc["media_item_id"], media=doc.get("media") or doc.get("channel"),
                     direction=doc.get("direction"), started_at=doc.get("started_at"), ended_at=doc.get("ended_at"),
                     end_reason=doc.get("end_reason"), segments=segments)


def _decode_identification(doc: Mapping[str, Any]) -> Identification | None:
    if doc.get("identification"):
        return Identification(**doc["identification"])
    if doc.get("identified_by"):  # written before automatic links existed: every link was confirmed
        return Identification("confirmed", doc["identified_by"].get("method", "agent_search"),
                              doc["identified_by"].get("agent_id"))
    return None


class RecordCodec:
    """:class:`Record` <-> the fields of its document (the id is a field too: the store hands a codec the
    fields without ``_id``; a document written before that reads back with the id :func:`state_of` puts in)."""

    def encode(self, record: Record) -> dict[str, Any]:
        doc = _present({name: getattr(record, name) for name in _SCALARS})
        doc.update({
            "interaction_id": record.interaction_id,
            "agent_ids": list(record.agent_ids), "contact_ended": record.contact_ended,
            "has_agent": record.has_agent, "link_sequence": record.link_sequence,
            "media": {field_key(i.media_item_id): _encode_item(i) for i in record.media.values()},
            "activities": [{**vars(a), "details": dict(a.details)} for a in record.activities],
            "notes": [vars(n).copy() for n in record.notes],
            "attachments": [vars(a).copy() for a in record.attachments],
            "linked_objects": [vars(o).copy() for o in record.linked_objects],
            "late_events": [{**vars(e), "data": dict(e.data)} for e in record.late_events],
            "late_events_dropped": record.late_events_dropped, "attributes": dict(record.attributes),
        })
        if record.identification is not None:
            doc["identification"] = _present(vars(record.identification))
        if record.scratch_pad is not None:
            doc["scratch_pad"] = vars(record.scratch_pad).copy()
        return doc

    def decode(self, doc: Mapping[str, Any]) -> Record:
        scalars = {name: doc.get(name) for name in _SCALARS if doc.get(name) is not None}
        scalars.setdefault("status", "open")
        scalars.setdefault("created_at", doc.get("opened_at") or _EPOCH)
        return Record(
            interaction_id=doc.get("interaction_id") or doc.get("_id") or "", **scalars,
            identification=_decode_identification(doc), agent_ids=tuple(doc.get("agent_ids") or ()),
            contact_ended=bool(doc.get("contact_ended")), has_agent=bool(doc.get("has_agent")),
            link_sequence=int(doc.get("link_sequence") or 0),
            media={item["media_item_id"]: _decode_item(item) for item in (doc.get("media") or {}).values()},
            activities=tuple(Activity(**a) for a in doc.get("activities") or ()),
            notes=tuple(Note(**n) for n in doc.get("notes") or ()),
            attachments=tuple(Attachment(**a) for a in doc.get("attachments") or ()),
            linked_objects=tuple(LinkedObject(**o) for o in doc.get("linked_objects") or ()),
            late_events=tuple(LateEvent(**e) for e in doc.get("late_events") or ()),
            late_events_dropped=int(doc.get("late_events_dropped") or 0),
            scratch_pad=ScratchPad(**doc["scratch_pad"]) if doc.get("scratch_pad") else None,
            attributes=dict(doc.get("attributes") or {}),
        )


def state_of(current: Stored[Record] | None) -> Record | None:
    """The record the store loaded, with its id (``None`` when there is no document)."""
    if current is None:
        return None
    record = current.state
    return record if record.interaction_id == current.id else replace(record, interaction_id=current.id)


class InteractionsRepository:
    """Read queries on the records (decoded with the same codec the store writes with)."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self.collection = db[INTERACTIONS]
        self.codec = RecordCodec()

    async def get(self, interaction_id: str) -> Record | None:
        doc = await self.collection.find_one({"_id": interaction_id}, _HIDDEN)
        return self.codec.decode(doc) if doc is not None else None

    async def get_many(self, interaction_ids: Iterable[str]) -> dict[str, Record]:
        cursor = self.collection.find({"_id": {"$in": list(interaction_ids)}}, _HIDDEN)
        return {doc["_id"]: self.codec.decode(doc) async for doc in cursor}

    async def list_for_agent(self, agent_id: str, status: str | None, after: tuple[datetime, str] | None,
                             limit: int) -> list[Record]:
        query: dict[str, Any] = {"agent_ids": agent_id}
        if status:
            query["status"] = status
        if after is not None:
            query["$or"] = [{"created_at": {"$lt": after[0]}}, {"created_at": after[0], "_id": {"$lt": after[1]}}]
        cursor = self.collection.find(query, _HIDDEN).sort(NEWEST_FIRST).limit(limit)
        return [self.codec.decode(doc) async for doc in cursor]

    async def referenced_files(self, interaction_ids: Iterable[str]) -> set[Any]:
        """The stored files the records of ``interaction_ids`` name as attachments."""
        cursor = self.collection.find({"_id": {"$in": list(interaction_ids)}}, {"attachments.file_id": 1})
        return {attachment.get("file_id") async for doc in cursor for attachment in doc.get("attachments") or []}

    async def due_for_self_service(self, now: datetime, limit: int) -> list[str]:
        """The ids of records due for the self-service check at ``now``, the longest due first."""
        cursor = self.collection.find({"self_service_due_at": {"$lte": now}}, {"_id": 1})
        return [doc["_id"] async for doc in cursor.sort(SELF_SERVICE_DUE).limit(limit)]

    async def open_for_callback(self, callback_id: str) -> list[str]:
        """The ids of a callback's outbound records that are still open."""
        cursor = self.collection.find({"callback_id": callback_id, "status": "open"}, {"_id": 1})
        return [doc["_id"] async for doc in cursor]
