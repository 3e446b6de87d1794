"""The work items in MongoDB. Every change is one guarded single-document write with its events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icsuite_chassis.mongo import IndexSpec, is_duplicate_key
from icsuite_chassis.outbox import OUTBOX_FIELD, outbox_entries, outbox_push
from icsuite_contracts.cloudevents import Envelope
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from ..domain import WorkItem
from ..domain.model import EXPIRABLE_STATUSES
from .claimable import BY_VERSION, CLAIMABLE, OFFERS, ClaimHead, Claimable, OfferCount, entry_fields
from .documents import item_document, item_fields, item_from_document

COLLECTION = "callbacks"
INBOX_ORDER = [("priority", DESCENDING), ("due_at", ASCENDING), ("_id", ASCENDING)]
SCAN_LIMIT = 500
# The non-unique ones are declared for a real MongoDB; the local MongoDB-wire server uses no non-unique index
# and answers from a unique one only a filter of exactly its keys: the ``(_id, version)`` ones are what let it
# answer the writes of claim-next (``{_id, version}``) without scanning.
INDEXES = [IndexSpec(COLLECTION, [("status", ASCENDING), ("priority", DESCENDING), ("due_at", ASCENDING)]),
           IndexSpec(COLLECTION, [("owner", ASCENDING), ("status", ASCENDING)]),
           IndexSpec(COLLECTION, BY_VERSION, unique=True),
           IndexSpec(CLAIMABLE, [("priority", DESCENDING), ("due_at", ASCENDING)]),
           IndexSpec(CLAIMABLE, BY_VERSION, unique=True)]


@dataclass(frozen=True)
class InboxPosition:
    """Where a page of an inbox ended: the sort key of its last item."""

    priority: int
    due_at: datetime
    callback_id: str


def _after(position: InboxPosition | None) -> dict[str, Any]:
    if position is None:
        return {}
    p, d, i = position.priority, position.due_at, position.callback_id
    return {"$or": [{"priority": {"$lt": p}}, {"priority": p, "due_at": {"$gt": d}},
                    {"priority": p, "due_at": d, "_id": {"$gt": i}}]}


def _merge(update: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = {op: dict(fields) for op, fields in update.items()}
    for op, fields in extra.items():
        merged.setdefault(op, {}).update(fields)
    return merged


def general_inbox_filter(now: datetime) -> dict[str, Any]:
    """Queued, its window open, its retry delay over, not yet past its window."""
    return {"status": "queued", "visible_from": {"$lte": now}, "expires_at": {"$gt": now}}


class WorkItems:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._col = db[COLLECTION]
        self._claimable = db[CLAIMABLE]
        self._offers = OfferCount(db[OFFERS])
        self._head = ClaimHead(self._claimable, self._offers)

    async def get(self, callback_id: str) -> WorkItem | None:
        doc = await self._col.find_one({"_id": callback_id}, {"_outbox": 0, "_applied": 0})
        return item_from_document(doc) if doc else None

    async def add(self, item: WorkItem, envelopes: Sequence[Envelope]) -> bool:
        """Insert a new item with its events; False when an item with this id exists already."""
        try:
            await self._col.insert_one({**item_document(item), OUTBOX_FIELD: outbox_entries(envelopes)})
        except Exception as exc:
            if is_duplicate_key(exc):
                return False
            raise
        return True

    async def save(self, read: WorkItem, changed: WorkItem, envelopes: Sequence[Envelope]) -> bool:
        """Write ``changed`` only if the item is still as it was read (version, status and owner)."""
        guard = {"_id": read.callback_id, "version": read.version, "status": read.status, "owner": read.owner}
        fields = item_fields(changed) | {"version": read.version + 1}
        result = await self._col.update_one(guard, _merge({"$set": fields}, outbox_push(envelopes)))
        return result.matched_count == 1

    async def take_claimable(self, clock: Callable[[], datetime]) -> Claimable | None:
        """The most urgent entry workable at ``clock()``, handed to this claim alone within this process (see
        :class:`ClaimHead`; :meth:`claim_taken` then removes it); None when there is none."""
        return await self._head.take(clock)

    async def claim_taken(self, taken: Claimable, agent_id: str, now: datetime,
                          envelopes: Sequence[Envelope]) -> WorkItem | None:
        """Claim the item of a taken entry for ``agent_id`` with its events, only if it is still at the entry's
        version; None when it changed meanwhile.

        The version pins the rest of ``general_inbox_filter``: the entry was written from the item at this
        version, queued, with this window, and the take checked the window at ``taken.taken_at`` (see the
        module :mod:`.claimable`). So the guard is exactly ``{_id, version}``, answered from an index.
        """
        guard = {"_id": taken.callback_id, "version": taken.version}
        try:
            doc = await self._col.find_one_and_update(
                guard,
                _merge({"$set": {"status": "claimed", "owner": agent_id, "updated_at": now},
                        "$inc": {"version": 1}}, outbox_push(envelopes)),
                projection={"_outbox": 0, "_applied": 0}, return_document=ReturnDocument.AFTER)
        finally:
            self._head.used(taken)   # claimed or changed: the entry of this version is dead either way
        return item_from_document(doc) if doc else None

    async def offer(self, item: WorkItem, announce: bool = True) -> bool:
        """Store the claimable entry of a queued item as of its stored version (an older entry is replaced,
        a newer one is kept), then announce it (:class:`OfferCount`) unless told not to; True when stored."""
        assert item.status == "queued", "an entry says its item is queued at its version"
        try:
            await self._claimable.update_one({"_id": item.callback_id, "version": {"$lt": item.version}},
                                             {"$set": entry_fields(item)}, upsert=True)
        except Exception as exc:
            if not is_duplicate_key(exc):  # an entry of this or a newer version is there already
                raise
            return False
        if announce:
            await self._offers.announce()
        return True

    async def withdraw(self, callback_id: str, version: int) -> None:
        """Remove the entry of an item that left the general inbox with its write of ``version``."""
        await self._claimable.delete_one({"_id": callback_id, "version": {"$lt": version}})

    async def sync_claimable(self, read: WorkItem | None, stored: WorkItem) -> None:
        """After a transition from ``read`` to ``stored`` (its version as stored): offer or withdraw the entry."""
        if stored.status == "queued":
            await self.offer(stored)
        elif read is not None and read.status == "queued":
            await self.withdraw(stored.callback_id, stored.version)

    async def reoffer(self, callback_id: str) -> None:
        """After a failed claim of a taken entry: a fresh entry if the item is queued still."""
        item = await self.get(callback_id)
        if item is not None and item.status == "queued":
            await self.offer(item)

    async def repair_claimable(self) -> dict[str, int]:
        """Re-create the entries of queued items that lack one (or have an older one), remove entries whose
        item is no longer queued at the entry's version. Safe in every replica and at any time: entries are
        written guarded by version and removed only at the version read."""
        entries = {d["_id"]: d.get("version") async for d in self._claimable.find({}, {"version": 1})}
        queued: set[str] = set()
        created = removed = 0
        async for doc in self._col.find({"status": "queued"}, {"_outbox": 0, "_applied": 0}):
            item = item_from_document(doc)
            queued.add(item.callback_id)
            if entries.get(item.callback_id) != item.version:
                created += await self.offer(item, announce=False)
        for callback_id, version in entries.items():
            if callback_id not in queued:
                result = await self._claimable.delete_one({"_id": callback_id, "version": version})
                removed += result.deleted_count
        if created:
            await self._offers.announce()
        return {"claimable_created": created, "claimable_removed": removed}

    async def emit_pending_claim(self, item: WorkItem, envelope: Envelope) -> bool:
        """A claim event left pending by an earlier version of claim-next (two writes): into the outbox."""
        assert item.pending_claim is not None
        result = await self._col.update_one(
            {"_id": item.callback_id, "pending_claim.event_id": item.pending_claim.event_id},
            _merge({"$set": {"pending_claim": None}, "$inc": {"version": 1}}, outbox_push([envelope])))
        return result.matched_count == 1

    async def page(self, query: dict[str, Any], limit: int, after: InboxPosition | None) -> list[WorkItem]:
        where = {"$and": [query, _after(after)]} if after else query
        cursor = self._col.find(where, {"_outbox": 0, "_applied": 0}).sort(INBOX_ORDER).limit(limit)
        return [item_from_document(doc) async for doc in cursor]

    async def general_inbox(self, now: datetime, limit: int, after: InboxPosition | None) -> list[WorkItem]:
        return await self.page(general_inbox_filter(now), limit, after)

    async def agent_inbox(self, agent_id: str, limit: int, after: InboxPosition | None) -> list[WorkItem]:
        return await self.page({"owner": agent_id, "status": {"$in": ["claimed", "in_progress"]}}, limit, after)

    async def _scan(self, query: dict[str, Any]) -> list[WorkItem]:
        cursor = self._col.find(query, {"_outbox": 0, "_applied": 0}).limit(SCAN_LIMIT)
        return [item_from_document(doc) async for doc in cursor]

    async def identification_over(self, now: datetime) -> list[WorkItem]:
        return await self._scan({"status": "scheduled", "identification": "pending",
                                 "identify_until": {"$lte": now}})

    async def window_opened(self, now: datetime) -> list[WorkItem]:
        return await self._scan({"status": "scheduled", "identification": {"$ne": "pending"},
                                 "visible_from": {"$lte": now}})

    async def window_passed(self, now: datetime) -> list[WorkItem]:
        return await self._scan({"status": {"$in": list(EXPIRABLE_STATUSES)}, "expires_at": {"$lte": now}})

    async def stale_pending_claims(self, before: datetime) -> list[WorkItem]:
        return await self._scan({"pending_claim.at": {"$lte": before}})
