"""The interaction records in MongoDB: one document per record, every change one guarded single-document write.

System events (contacts, identity, callbacks, follow-ups) are applied with :meth:`apply_event`: an upsert
guarded by ``status != closed`` and by the event id (``apply_once``), so events may arrive in any order
and more than once. An event for a closed record is appended to its ``late_events`` and changes nothing
else. Gateway changes use :meth:`change_open`, guarded by ``status == open`` and no bulk-completion mark.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from icsuite_chassis.inbox import APPLIED_FIELD, Applied, apply_once, guarded_update, merge_updates
from icsuite_chassis.mongo import DUPLICATE_KEY, IndexSpec
from icsuite_contracts.cloudevents import Envelope
from pymongo import DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from .domain.record import CLOSED, OPEN, InteractionBusy, InteractionNotFound, InteractionReadOnly

INTERACTIONS = "interactions"
SELF_SERVICE_DUE = "self_service_due"
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
NOT_MARKED = {"_completion": None}
INDEXES = (
    IndexSpec(INTERACTIONS, [("agent_ids", 1), ("status", 1), ("created_at", -1)]),
    IndexSpec(INTERACTIONS, [("account_id", 1), ("status", 1)]),
    IndexSpec(SELF_SERVICE_DUE, [("due_at", 1)]),
)


@dataclass(frozen=True)
class EventWrite:
    """The effect of one consumed event on one record, ready to be applied once."""

    interaction_id: str
    event_id: str
    update: Mapping[str, Any]
    late_entry: Mapping[str, Any]
    now: datetime
    publish: Sequence[Envelope] = ()
    only_if: Mapping[str, Any] = field(default_factory=dict)  # extra condition, e.g. not opened yet


class InteractionsRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self.collection = db[INTERACTIONS]
        self.due = db[SELF_SERVICE_DUE]

    # -- system events --------------------------------------------------------------------------
    @staticmethod
    def _open_filter(write: EventWrite) -> dict[str, Any]:
        return {"_id": write.interaction_id, "status": {"$ne": CLOSED}, **write.only_if}

    @staticmethod
    def _upsert_update(write: EventWrite) -> dict[str, Any]:
        return merge_updates(write.update, {"$setOnInsert": {"status": OPEN, "created_at": write.now}})

    async def apply_event(self, write: EventWrite) -> str:
        """Apply ``write`` once: ``applied``, ``late`` (record closed), ``duplicate`` or ``ignored``."""
        for _ in range(3):
            result = await apply_once(self.collection, filter=self._open_filter(write),
                                      update=self._upsert_update(write), event_id=write.event_id,
                                      upsert=True, publish=write.publish)
            if result is Applied.APPLIED:
                return "applied"
            # a duplicate-key refusal means: applied before, closed, not matching only_if, or a racing insert
            if await self.collection.find_one({"_id": write.interaction_id, APPLIED_FIELD: write.event_id},
                                              {"_id": 1}):
                return "duplicate"
            current = await self.collection.find_one({"_id": write.interaction_id}, {"status": 1})
            if current is not None and current.get("status") == CLOSED:
                return await self._record_late(write)
            if current is not None and write.only_if:
                return "ignored"
        return "ignored"

    async def _record_late(self, write: EventWrite) -> str:
        late = await apply_once(self.collection, filter={"_id": write.interaction_id, "status": CLOSED},
                                update={"$push": {"late_events": dict(write.late_entry)}},
                                event_id=write.event_id, upsert=False)
        return "late" if late is Applied.APPLIED else "duplicate"

    async def apply_events(self, writes: Sequence[EventWrite]) -> int:
        """Apply many writes with one bulk write; refused ones go through :meth:`apply_event`."""
        if not writes:
            return 0
        operations = [UpdateOne({**self._open_filter(w), APPLIED_FIELD: {"$ne": w.event_id}},
                                guarded_update(w.event_id, self._upsert_update(w), w.publish), upsert=True)
                      for w in writes]
        try:
            await self.collection.bulk_write(operations, ordered=False)
            return 0
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            retry = [writes[e["index"]] for e in errors]
        for write in retry:
            await self.apply_event(write)
        return len(retry)

    # -- reads ----------------------------------------------------------------------------------
    async def get(self, interaction_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": interaction_id}, {"_outbox": 0, APPLIED_FIELD: 0})

    async def get_records(self, interaction_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Whole records (as :meth:`get`) of many ids with one ``$in`` read."""
        cursor = self.collection.find({"_id": {"$in": list(interaction_ids)}}, {"_outbox": 0, APPLIED_FIELD: 0})
        return {doc["_id"]: doc async for doc in cursor}

    async def get_many(self, interaction_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        cursor = self.collection.find({"_id": {"$in": list(interaction_ids)}},
                                      {"status": 1, "account_id": 1, "_completion": 1})
        return {doc["_id"]: doc async for doc in cursor}

    async def list_for_agent(self, agent_id: str, status: str | None, after: tuple[datetime, str] | None,
                             limit: int) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"agent_ids": agent_id}
        if status:
            query["status"] = status
        if after is not None:
            query["$or"] = [{"created_at": {"$lt": after[0]}}, {"created_at": after[0], "_id": {"$lt": after[1]}}]
        cursor = self.collection.find(query, {"_outbox": 0, APPLIED_FIELD: 0}).sort(NEWEST_FIRST).limit(limit)
        return [doc async for doc in cursor]

    # -- gateway changes ------------------------------------------------------------------------
    async def insert(self, document: Mapping[str, Any]) -> None:
        await self.collection.insert_one(dict(document))

    async def change_open(self, interaction_id: str, update: Mapping[str, Any],
                          condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Change an open record that no bulk completion holds; 404, 409 (read-only) or 409 (busy) else."""
        doc = await self.collection.find_one_and_update(
            {"_id": interaction_id, "status": OPEN, **NOT_MARKED, **(condition or {})}, dict(update),
            projection={"_outbox": 0, APPLIED_FIELD: 0}, return_document=ReturnDocument.AFTER)
        if doc is not None:
            return doc
        current = await self.collection.find_one({"_id": interaction_id}, {"status": 1, "_completion": 1})
        if current is None:
            raise InteractionNotFound(interaction_id)
        if current.get("status") == CLOSED:
            raise InteractionReadOnly(interaction_id)
        raise InteractionBusy(interaction_id)

    # -- bulk completion marks ------------------------------------------------------------------
    async def mark(self, interaction_id: str, account_id: str, token: str, until: datetime) -> bool:
        result = await self.collection.update_one(
            {"_id": interaction_id, "status": OPEN, "account_id": account_id, **NOT_MARKED},
            {"$set": {"_completion": {"token": token, "until": until}}})
        return result.modified_count == 1

    async def unmark(self, interaction_ids: Iterable[str], token: str) -> None:
        await self.collection.update_many({"_id": {"$in": list(interaction_ids)}, "_completion.token": token},
                                          {"$set": {"_completion": None}})

    async def close_marked(self, interaction_id: str, token: str, update: Mapping[str, Any]) -> bool:
        result = await self.collection.update_one(
            {"_id": interaction_id, "status": OPEN, "_completion.token": token}, dict(update))
        return result.modified_count == 1

    # -- self-service -----------------------------------------------------------------------------
    async def schedule_self_service(self, interaction_id: str, due_at: datetime) -> None:
        await self.due.update_one({"_id": interaction_id}, {"$set": {"due_at": due_at}}, upsert=True)

    async def schedule_self_service_many(self, interaction_ids: Sequence[str], due_at: datetime) -> None:
        if interaction_ids:
            await self.due.bulk_write([UpdateOne({"_id": i}, {"$set": {"due_at": due_at}}, upsert=True)
                                       for i in dict.fromkeys(interaction_ids)], ordered=False)

    async def due_self_service(self, now: datetime, limit: int = 500) -> list[str]:
        cursor = self.due.find({"due_at": {"$lte": now}}, {"_id": 1}).limit(limit)
        return [doc["_id"] async for doc in cursor]

    async def drop_self_service(self, interaction_id: str) -> None:
        await self.due.delete_one({"_id": interaction_id})

    async def drop_self_service_many(self, interaction_ids: Sequence[str]) -> None:
        if interaction_ids:
            await self.due.delete_many({"_id": {"$in": list(interaction_ids)}})

    async def close_self_service(self, interaction_id: str, update: Mapping[str, Any]) -> bool:
        result = await self.collection.update_one(
            {"_id": interaction_id, "status": OPEN, "has_agent": {"$ne": True}, "contact_ended": True,
             **NOT_MARKED}, dict(update))
        return result.modified_count == 1
