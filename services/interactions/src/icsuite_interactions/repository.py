"""The interaction records in MongoDB: one document per record, every change one single-document write.

System events (contacts, identity, callbacks, follow-ups) are applied with :meth:`apply_events`: the
records are read by ``_id``, each event is decided on its record's state (applied before? closed?) and
written as a compare-and-set upsert on the version read, with the event id recorded in the same write
(:mod:`icsuite_chassis.versioned`), so events may arrive in any order and more than once. An event for a
closed record is appended to its ``late_events`` and changes nothing else. Gateway changes use
:meth:`change_open`, guarded by ``status == open`` and no bulk-completion mark. Every write replaces the
record's version ``_v`` (the outbox relay's ``$pull`` of published entries excepted: it changes nothing a
decision reads).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icsuite_chassis.inbox import APPLIED_FIELD, merge_updates
from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.versioned import VERSION_FIELD, CasBatch, apply_versioned, new_version, version_index, versioned
from icsuite_contracts.cloudevents import Envelope
from pymongo import DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from .domain.record import CLOSED, OPEN, InteractionBusy, InteractionNotFound, InteractionReadOnly

INTERACTIONS = "interactions"
SELF_SERVICE_DUE = "self_service_due"
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
NOT_MARKED = {"_completion": None}
INDEXES = (
    IndexSpec(INTERACTIONS, [("agent_ids", 1), ("status", 1), ("created_at", -1)]),
    IndexSpec(INTERACTIONS, [("account_id", 1), ("status", 1)]),
    IndexSpec(SELF_SERVICE_DUE, [("due_at", 1)]),
    version_index(INTERACTIONS),
)
STATE_FIELDS = ("status", "opened_at")  # what the decision on a system event reads


@dataclass(frozen=True)
class EventWrite:
    """The effect of one consumed event on one record, ready to be applied once."""

    interaction_id: str
    event_id: str
    update: Mapping[str, Any]
    late_entry: Mapping[str, Any]
    now: datetime
    publish: Sequence[Envelope] = ()
    unless_present: str | None = None  # a field whose presence makes the event change nothing (opened_at)


def upsert_update(write: EventWrite) -> dict[str, Any]:
    return merge_updates(write.update, {"$setOnInsert": {"status": OPEN, "created_at": write.now}})


def plan_event(batch: CasBatch[EventWrite], write: EventWrite) -> str:
    """Decide one system event on its record's state as read (and as the batch's earlier writes leave it):
    add its write to ``batch`` and answer ``applied``, ``late``, ``duplicate`` or ``ignored``."""
    state = batch.state(write.interaction_id)
    if write.event_id in state.applied:
        return "duplicate"
    if state.exists and state.fields.get("status") == CLOSED:  # read-only: kept as a late event
        batch.add(write.interaction_id, {"$push": {"late_events": dict(write.late_entry)}}, write,
                  event_id=write.event_id)
        return "late"
    if write.unless_present is not None and write.unless_present in state.fields:
        return "ignored"
    batch.add(write.interaction_id, upsert_update(write), write, event_id=write.event_id, publish=write.publish)
    state.fields.setdefault("status", OPEN)
    if write.unless_present is not None and write.unless_present in write.update.get("$set", {}):
        state.fields[write.unless_present] = write.update["$set"][write.unless_present]
    return "applied"


class InteractionsRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self.collection = db[INTERACTIONS]
        self.due = db[SELF_SERVICE_DUE]

    # -- system events --------------------------------------------------------------------------
    async def apply_events(self, writes: Sequence[EventWrite]) -> list[str]:
        """Apply each write once, in order per record: ``applied``, ``late`` (the record is closed: kept in
        its ``late_events``, nothing else changes), ``duplicate`` (applied before) or ``ignored``
        (``unless_present`` is there). One ``$in`` read and one bulk write of compare-and-set upserts
        (:mod:`icsuite_chassis.versioned`); what lost a race is read and decided again."""
        outcomes: dict[int, str] = {}

        def plan(batch: CasBatch[EventWrite], write: EventWrite) -> None:
            outcomes[id(write)] = plan_event(batch, write)

        await apply_versioned(self.collection, writes, lambda w: w.interaction_id, plan, fields=STATE_FIELDS)
        return [outcomes[id(write)] for write in writes]

    async def apply_event(self, write: EventWrite) -> str:
        return (await self.apply_events([write]))[0]

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
        await self.collection.insert_one({**document, VERSION_FIELD: new_version()})

    async def change_open(self, interaction_id: str, update: Mapping[str, Any],
                          condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Change an open record that no bulk completion holds; 404, 409 (read-only) or 409 (busy) else."""
        doc = await self.collection.find_one_and_update(
            {"_id": interaction_id, "status": OPEN, **NOT_MARKED, **(condition or {})}, versioned(update),
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
            versioned({"$set": {"_completion": {"token": token, "until": until}}}))
        return result.modified_count == 1

    async def unmark(self, interaction_ids: Iterable[str], token: str) -> None:
        await self.collection.update_many({"_id": {"$in": list(interaction_ids)}, "_completion.token": token},
                                          versioned({"$set": {"_completion": None}}))

    async def close_marked(self, interaction_id: str, token: str, update: Mapping[str, Any]) -> bool:
        result = await self.collection.update_one(
            {"_id": interaction_id, "status": OPEN, "_completion.token": token}, versioned(update))
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

    async def close_self_service(self, interaction_id: str, update: Mapping[str, Any], version: Any) -> bool:
        """Close a record decided on as read at ``version`` (the decision checked status, agent, end and
        mark), only if nothing changed since: one write by ``(_id, _v)``."""
        result = await self.collection.update_one({"_id": interaction_id, VERSION_FIELD: version}, versioned(update))
        return result.modified_count == 1
