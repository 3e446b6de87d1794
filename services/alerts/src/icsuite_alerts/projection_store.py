"""MongoDB side of the projections: contacts, account facts and the kept copy of consumed events.

Projection documents are changed by read, decide (pure domain), and a write guarded by the revision the
decision was based on and by the event id (``apply_once``), so concurrent consumers never lose an update
and a redelivered event has no second effect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from icsuite_chassis.inbox import APPLIED_FIELD, Applied, apply_once
from icsuite_chassis.mongo import IndexSpec, is_duplicate_key
from pymongo.asynchronous.database import AsyncDatabase

from .domain.contacts import ContactState, apply_to_contact
from .domain.facts import AccountState, apply_to_account
from .domain.observations import Observation, observe

INDEXES = [IndexSpec("event_log", [("time", 1)])]
MAX_ATTEMPTS = 20


def account_to_doc(state: AccountState) -> dict[str, Any]:
    return {
        "agreements": [{"id": key, **value} for key, value in sorted(state.agreements.items())],
        "account_version": state.account_version,
        "flags": list(state.flags),
        "open_callbacks": sorted(state.open_callbacks),
        "overdue_followups": sorted(state.overdue_followups),
        "contacts": [{"ref": ref, "at": at} for ref, at in state.contacts],
        "last_outcome": state.last_outcome,
        "last_outcome_at": state.last_outcome_at,
    }


def account_from_doc(doc: dict[str, Any] | None) -> AccountState:
    if not doc:
        return AccountState()
    return AccountState(
        agreements={a["id"]: {k: v for k, v in a.items() if k != "id"} for a in doc.get("agreements") or ()},
        account_version=doc.get("account_version"),
        flags=tuple(doc.get("flags") or ()),
        open_callbacks=frozenset(doc.get("open_callbacks") or ()),
        overdue_followups=frozenset(doc.get("overdue_followups") or ()),
        contacts=tuple((c["ref"], _aware(c["at"])) for c in doc.get("contacts") or ()),
        last_outcome=doc.get("last_outcome"),
        last_outcome_at=_aware(doc.get("last_outcome_at")),
    )


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class ProjectionStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self.contacts = db["contacts"]
        self.accounts = db["accounts"]
        self.event_log = db["event_log"]

    async def keep_event(self, obs: Observation) -> None:
        doc = {"_id": obs.event_id, "type": obs.type, "time": obs.time, "data": obs.data,
               "source": obs.attributes.get("ce_source"), "subject": obs.attributes.get("ce_subject"),
               "correlation_id": obs.attributes.get("ce_correlationid"),
               "causation_id": obs.attributes.get("ce_causationid")}
        try:
            await self.event_log.insert_one(doc)
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise

    async def kept_events(self, *, until: datetime, limit: int) -> AsyncIterator[Observation]:
        cursor = self.event_log.find({"time": {"$lte": until}}).sort([("time", 1), ("_id", 1)]).limit(limit)
        async for doc in cursor:
            yield observe(event_id=doc["_id"], ce_type=doc["type"], time=_aware(doc["time"]), data=doc["data"],
                          source=doc.get("source") or "", subject=doc.get("subject"),
                          correlation_id=doc.get("correlation_id"), causation_id=doc.get("causation_id"))

    async def prune_events(self, before: datetime) -> int:
        result = await self.event_log.delete_many({"time": {"$lt": before}})
        return result.deleted_count

    async def update_contact(self, obs: Observation) -> ContactState:
        if obs.contact_id is None:
            return ContactState()

        def decide(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            new = apply_to_contact(ContactState.from_doc(doc), obs)
            return None if new is None else new.to_doc()

        doc = await _apply_versioned(self.contacts, obs.contact_id, obs.event_id, decide)
        return ContactState.from_doc(doc)

    async def update_account(self, account_id: str, obs: Observation) -> AccountState:
        def decide(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            new = apply_to_account(account_from_doc(doc), obs)
            return None if new is None else account_to_doc(new)

        doc = await _apply_versioned(self.accounts, account_id, obs.event_id, decide)
        return account_from_doc(doc)


async def _apply_versioned(collection: Any, doc_id: str, event_id: str,
                           decide: Callable[[dict[str, Any] | None], dict[str, Any] | None]) -> dict[str, Any] | None:
    """Read, decide, write guarded by ``rev`` and the event id; retry when another writer came first."""
    for _ in range(MAX_ATTEMPTS):
        doc = await collection.find_one({"_id": doc_id})
        if doc is not None and event_id in (doc.get(APPLIED_FIELD) or ()):
            return doc
        fields = decide(doc)
        if fields is None:
            return doc
        if doc is None:
            try:
                await collection.insert_one({"_id": doc_id, **fields, "rev": 1, APPLIED_FIELD: [event_id]})
                return fields
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise
                continue
        outcome = await apply_once(collection, filter={"_id": doc_id, "rev": doc["rev"]},
                                   update={"$set": fields, "$inc": {"rev": 1}}, event_id=event_id, upsert=False)
        if outcome is not Applied.NO_MATCH:
            return {**doc, **fields} if outcome is Applied.APPLIED else await collection.find_one({"_id": doc_id})
    raise RuntimeError(f"too much contention on {collection.name} {doc_id}")
