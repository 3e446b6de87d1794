"""MongoDB side of the projections: contacts, account facts and the kept copy of consumed events.

Projection documents are changed by read, decide (pure domain), and a write guarded by the revision the
decision was based on and by the event id (``apply_once``), so concurrent consumers never lose an update
and a redelivered event has no second effect.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from icsuite_chassis.inbox import APPLIED_FIELD, APPLIED_KEEP, Applied, apply_once
from icsuite_chassis.mongo import IndexSpec, is_duplicate_key
from pymongo.asynchronous.database import AsyncDatabase

from .domain.contacts import ContactState, apply_to_contact
from .domain.facts import AccountState, apply_to_account
from .domain.observations import Observation, observe

INDEXES = [IndexSpec("event_log", [("time", 1)])]
MAX_ATTEMPTS = 20
CACHE_SIZE = 20_000


class DocCache:
    """The projection documents this process last wrote (with their ``rev``), least recently used dropped.

    Only a *base for a guarded write*: a write decided on a cached document is guarded by its ``rev``, so a
    document changed meanwhile by another replica matches nothing and is read again. A decision that
    changes nothing is never taken on a cached document (it could be stale): the document is read.
    """

    def __init__(self, size: int = CACHE_SIZE):
        self._size = size
        self._docs: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get(self, doc_id: str) -> dict[str, Any] | None:
        doc = self._docs.get(doc_id)
        if doc is not None:
            self._docs.move_to_end(doc_id)
        return doc

    def put(self, doc_id: str, doc: dict[str, Any]) -> None:
        self._docs[doc_id] = doc
        self._docs.move_to_end(doc_id)
        while len(self._docs) > self._size:
            self._docs.popitem(last=False)

    def drop(self, doc_id: str) -> None:
        self._docs.pop(doc_id, None)


@dataclass(frozen=True)
class Outcome:
    """A projection document after an event: ``changed`` by this call, or ``duplicate`` (applied before)."""

    doc: dict[str, Any] | None
    changed: bool = False
    duplicate: bool = False
    previous: dict[str, Any] | None = None


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
        self._contact_cache = DocCache()
        self._account_cache = DocCache()

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

    async def update_contact(self, obs: Observation) -> tuple[ContactState, Outcome]:
        """The contact after ``obs``, and whether this call changed it or found ``obs`` applied before."""
        if obs.contact_id is None:
            return ContactState(), Outcome(None)

        def decide(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            new = apply_to_contact(ContactState.from_doc(doc), obs)
            return None if new is None else new.to_doc()

        outcome = await _apply_versioned(self.contacts, self._contact_cache, obs.contact_id, obs.event_id, decide)
        return ContactState.from_doc(outcome.doc), outcome

    async def contact(self, contact_id: str) -> ContactState:
        """The contact as stored now (read, never from the cache)."""
        return ContactState.from_doc(await self.contacts.find_one({"_id": contact_id}))

    async def update_account(self, account_id: str, obs: Observation) -> AccountState:
        def decide(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            new = apply_to_account(account_from_doc(doc), obs)
            return None if new is None else account_to_doc(new)

        outcome = await _apply_versioned(self.accounts, self._account_cache, account_id, obs.event_id, decide)
        return account_from_doc(outcome.doc)


async def _apply_versioned(collection: Any, cache: DocCache, doc_id: str, event_id: str,
                           decide: Callable[[dict[str, Any] | None], dict[str, Any] | None]) -> Outcome:
    """Read, decide, write guarded by ``rev`` and the event id; retry when another writer came first.

    The first attempt decides on this process's cached copy when it has one (saving the read); the
    guarded write refuses a stale copy, and the loop then reads the stored document.
    """
    cached = cache.get(doc_id)
    for _ in range(MAX_ATTEMPTS):
        if cached is not None:
            doc, cached = cached, None
            from_cache = True
        else:
            doc, from_cache = await collection.find_one({"_id": doc_id}), False
        if doc is not None and event_id in (doc.get(APPLIED_FIELD) or ()):
            if not from_cache:
                cache.put(doc_id, doc)
            return Outcome(doc, duplicate=True)
        fields = decide(doc)
        if fields is None:
            if from_cache:
                continue  # "no change" is only trusted on the stored document
            if doc is not None:
                cache.put(doc_id, doc)
            return Outcome(doc)
        if doc is None:
            new = {"_id": doc_id, **fields, "rev": 1, APPLIED_FIELD: [event_id]}
            try:
                await collection.insert_one(dict(new))
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise
                continue
            cache.put(doc_id, new)
            return Outcome(new, changed=True, previous=None)
        result = await apply_once(collection, filter={"_id": doc_id, "rev": doc["rev"]},
                                  update={"$set": fields, "$inc": {"rev": 1}}, event_id=event_id, upsert=False)
        if result is Applied.APPLIED:  # the stored document is now exactly this: no need to read it back
            applied = [*(doc.get(APPLIED_FIELD) or ()), event_id][-APPLIED_KEEP:]
            new = {**doc, **fields, "rev": doc["rev"] + 1, APPLIED_FIELD: applied}
            cache.put(doc_id, new)
            return Outcome(new, changed=True, previous=doc)
        cache.drop(doc_id)
        if result is Applied.DUPLICATE:
            return Outcome(await collection.find_one({"_id": doc_id}), duplicate=True)
    raise RuntimeError(f"too much contention on {collection.name} {doc_id}")
