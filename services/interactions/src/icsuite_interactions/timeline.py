"""The per-account timeline: a projection of ``ic.interactions.v1``, one entry per interaction.

The service consumes its own topic to build it, so the timeline can always be rebuilt from the topic
alone (:mod:`icsuite_interactions.rebuild`) and the rebuilt one equals the live one: both apply the
same :func:`timeline_update` to the same events in the same order (one partition per interaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icsuite_chassis.inbox import APPLIED_FIELD, merge_updates
from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.versioned import CasBatch, apply_versioned, version_index
from icsuite_contracts.cloudevents import Envelope
from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

NEWEST_FIRST = [("opened_at", DESCENDING), ("_id", DESCENDING)]
ENTRY_FIELDS = ("interaction_id", "account_id", "business_agreement_id", "premise_id", "contact_id",
                "callback_id", "origin", "channel", "direction", "status", "opened_at", "closed_at", "outcome",
                "result", "reason_code", "duration_s", "agent_ids", "activity_count", "note_count")
TIMELINE_TYPES = ("ic.interaction.opened.v1", "ic.interaction.account-linked.v1",
                  "ic.interaction.activity-recorded.v1", "ic.interaction.note-added.v1",
                  "ic.interaction.closed.v1")


def timeline_indexes(collection: str) -> list[IndexSpec]:
    return [IndexSpec(collection, [("account_id", 1), ("opened_at", -1), ("_id", -1)]), version_index(collection)]


def _present(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _agents(*agent_ids: str | None) -> dict[str, Any]:
    present = [a for a in agent_ids if a]
    return {"$addToSet": {"agent_ids": {"$each": present}}} if present else {}


def timeline_update(envelope: Envelope) -> tuple[str, dict[str, Any]]:
    """The interaction id and the update one ``ic.interactions.v1`` event makes to its timeline entry."""
    d: Any = envelope.data
    still_open = {"$setOnInsert": {"status": "open"}}
    if envelope.type == "ic.interaction.opened.v1":
        fields = _present(origin=d.origin, channel=d.channel, direction=d.direction, opened_at=d.opened_at,
                          contact_id=d.contact_id, callback_id=d.callback_id, account_id=d.account_id)
        update = merge_updates({"$set": fields}, still_open, _agents(d.agent_id))
    elif envelope.type == "ic.interaction.account-linked.v1":
        update = merge_updates({"$set": {"account_id": d.account_id, "business_agreement_id": d.business_agreement_id,
                                         "premise_id": d.premise_id}}, still_open)
    elif envelope.type == "ic.interaction.activity-recorded.v1":
        update = merge_updates({"$inc": {"activity_count": 1}}, still_open, _agents(d.agent_id))
    elif envelope.type == "ic.interaction.note-added.v1":
        update = merge_updates({"$inc": {"note_count": 1}}, still_open, _agents(d.author))
    elif envelope.type == "ic.interaction.closed.v1":
        fields = {"status": "closed", "outcome": d.outcome, "result": d.result, "reason_code": d.reason_code,
                  "duration_s": d.duration_s, "closed_at": d.closed_at,
                  **_present(account_id=d.account_id, business_agreement_id=d.business_agreement_id)}
        update = merge_updates({"$set": fields}, _agents(d.agent_id, *d.agent_ids))
    else:
        raise ValueError(f"{envelope.type} does not change the timeline")
    return d.interaction_id, update


@dataclass(frozen=True)
class TimelineFilter:
    account_id: str
    channel: str | None = None
    agent_id: str | None = None
    outcome: str | None = None
    status: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None


class Timeline:
    def __init__(self, collection: AsyncCollection[dict[str, Any]]):
        self.collection = collection

    async def apply(self, envelope: Envelope) -> None:
        await self.apply_in_order([envelope])

    async def apply_in_order(self, envelopes: Sequence[Envelope]) -> None:
        """Apply a batch in order per entry, each event once: one ``$in`` read, one bulk write of
        compare-and-set upserts (:mod:`icsuite_chassis.versioned`); an event applied before is skipped."""
        updates = [(envelope, *timeline_update(envelope)) for envelope in envelopes]

        def plan(batch: CasBatch[tuple[Envelope, str, dict[str, Any]]],
                 item: tuple[Envelope, str, dict[str, Any]]) -> None:
            envelope, interaction_id, update = item
            if envelope.id not in batch.state(interaction_id).applied:
                batch.add(interaction_id, update, item, event_id=envelope.id)

        await apply_versioned(self.collection, updates, lambda item: item[1], plan)

    async def page(self, where: TimelineFilter, after: tuple[datetime, str] | None, limit: int) -> list[dict[str, Any]]:
        clauses: list[dict[str, Any]] = [{"account_id": where.account_id}, {"opened_at": {"$ne": None}}]
        for name, value in (("channel", where.channel), ("agent_ids", where.agent_id),
                            ("outcome", where.outcome), ("status", where.status)):
            if value is not None:
                clauses.append({name: value})
        if where.opened_from is not None:
            clauses.append({"opened_at": {"$gte": where.opened_from}})
        if where.opened_to is not None:
            clauses.append({"opened_at": {"$lt": where.opened_to}})
        if after is not None:
            clauses.append({"$or": [{"opened_at": {"$lt": after[0]}},
                                    {"opened_at": after[0], "_id": {"$lt": after[1]}}]})
        cursor = self.collection.find({"$and": clauses}, {"_outbox": 0, APPLIED_FIELD: 0})
        return [doc async for doc in cursor.sort(NEWEST_FIRST).limit(limit)]


def entry_view(doc: dict[str, Any]) -> dict[str, Any]:
    view = {name: doc.get(name) for name in ENTRY_FIELDS}
    view["interaction_id"] = doc["_id"]
    view["agent_ids"] = sorted(doc.get("agent_ids") or [])
    view["activity_count"] = doc.get("activity_count", 0)
    view["note_count"] = doc.get("note_count", 0)
    return view
