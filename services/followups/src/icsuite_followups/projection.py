"""The service's own projection of interaction records, built from ``ic.interactions.v1``.

Copying control reads it instead of calling the interactions gateway: what a follow-up copies from an
interaction is what the interaction's events said. One document per interaction, keyed by its id;
each event is applied once (its id is recorded in the same write, see the chassis inbox).

The document also keeps the ids of the follow-ups created from the interaction that still await a field
the projection did not know yet (``awaiting_followups``), so the consumer finds them by ``_id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from icsuite_chassis.inbox import Applied, apply_once
from icsuite_chassis.mongo import is_duplicate_key
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from .domain import SourceNote, SourceSnapshot

INTERACTION_SOURCES = "interaction_sources"
NOTES_KEPT = 50
AWAITING = "awaiting_followups"
_UPSERT_ATTEMPTS = 3


@dataclass(frozen=True)
class ProjectedInteraction:
    snapshot: SourceSnapshot
    closed: bool
    awaiting_followups: tuple[str, ...]


def _snapshot_of(doc: Mapping[str, Any]) -> SourceSnapshot:
    fields = {k: doc.get(k) for k in ("account_id", "business_agreement_id", "premise_id", "reason_code")}
    notes = tuple(SourceNote(**{k: n[k] for k in ("note_id", "type", "language", "text", "author", "created_at")})
                  for n in doc.get("notes") or ())
    return SourceSnapshot(fields=fields, notes=notes)


def _projected(doc: Mapping[str, Any]) -> ProjectedInteraction:
    return ProjectedInteraction(snapshot=_snapshot_of(doc), closed=doc.get("status") == "closed",
                                awaiting_followups=tuple(doc.get(AWAITING) or ()))


def _known(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class InteractionProjection:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._col = db[INTERACTION_SOURCES]

    async def _apply(self, interaction_id: str, update: dict[str, Any], event_id: str) -> Applied:
        return await apply_once(self._col, filter={"_id": interaction_id}, update=update, event_id=event_id)

    async def opened(self, interaction_id: str, *, event_id: str, channel: str, account_id: str | None,
                     contact_id: str | None) -> Applied:
        return await self._apply(interaction_id, {"$set": _known(
            {"channel": channel, "account_id": account_id, "contact_id": contact_id, "status": "open"})}, event_id)

    async def account_linked(self, interaction_id: str, *, event_id: str, account_id: str,
                             business_agreement_id: str | None, premise_id: str | None) -> Applied:
        # a new account makes the former agreement and premise meaningless: they are replaced, also by null
        return await self._apply(interaction_id, {"$set": {
            "account_id": account_id, "business_agreement_id": business_agreement_id,
            "premise_id": premise_id}}, event_id)

    async def note_added(self, interaction_id: str, *, event_id: str, account_id: str | None,
                         note: Mapping[str, Any]) -> Applied:
        update: dict[str, Any] = {"$push": {"notes": {"$each": [dict(note)], "$slice": -NOTES_KEPT}}}
        if account_id is not None:
            update["$set"] = {"account_id": account_id}
        return await self._apply(interaction_id, update, event_id)

    async def closed(self, interaction_id: str, *, event_id: str, values: Mapping[str, Any]) -> Applied:
        return await self._apply(interaction_id, {"$set": {**_known(values), "status": "closed"}}, event_id)

    async def snapshot(self, interaction_id: str) -> SourceSnapshot | None:
        doc = await self._col.find_one({"_id": interaction_id}, {"_applied": 0, AWAITING: 0})
        return _snapshot_of(doc) if doc is not None else None

    async def read(self, interaction_id: str) -> ProjectedInteraction | None:
        doc = await self._col.find_one({"_id": interaction_id}, {"_applied": 0})
        return _projected(doc) if doc is not None else None

    async def await_copy(self, interaction_id: str, followup_id: str) -> ProjectedInteraction:
        """Register the follow-up as awaiting what the interaction's events will tell; the state after that.

        Whatever event the consumer applies after this write finds the follow-up; whatever it applied
        before is in the state returned, so nothing learned in between is missed.
        """
        for _ in range(_UPSERT_ATTEMPTS):
            try:
                doc = await self._col.find_one_and_update(
                    {"_id": interaction_id}, {"$addToSet": {AWAITING: followup_id}}, projection={"_applied": 0},
                    upsert=True, return_document=ReturnDocument.AFTER)
                return _projected(doc)
            except Exception as exc:  # two upserts of a new document raced: the next attempt updates it
                if not is_duplicate_key(exc):
                    raise
        raise RuntimeError(f"could not register a follow-up on interaction {interaction_id!r}")

    async def stop_awaiting(self, interaction_id: str, followup_ids: Iterable[str]) -> None:
        await self._col.update_one({"_id": interaction_id}, {"$pull": {AWAITING: {"$in": list(followup_ids)}}})
