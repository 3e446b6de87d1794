"""How callbacks are stored (one codec per aggregate) and the read queries: inboxes and the scheduler's scans.

Every change goes through the aggregate store (``handlers``); this module only reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.store import AggregateStore, store_indexes
from pymongo import ASCENDING, DESCENDING

from .domain import CallerIdentity, NumberSlots, ReasonProfile, Routing, Slot, WorkItem
from .domain.hours import BusinessHours
from .domain.model import EXPIRABLE_STATUSES
from .domain.rates import RateCount

COLLECTION = "callbacks"
PROFILES = "reason_profiles"
SLOTS = "open_requests_by_number"
IDENTIFICATIONS = "caller_identifications"
RATES = "intake_rates"
INBOX_ORDER: list[tuple[str, int]] = [("priority", DESCENDING), ("due_at", ASCENDING), ("_id", ASCENDING)]
QUEUED = {"status": "queued"}
"""The claim queue: what claim-next asks the database for (on MongoDB the inbox index answers it; the store
checks the rest of the claim condition on the items read, see its ``narrow``), and the items store's
``queue``, whose mark every write of a queued item raises."""
SCAN_LIMIT = 500
INDEXES = [
    IndexSpec(COLLECTION, [("status", ASCENDING), *INBOX_ORDER]),   # claim-next and the general inbox
    IndexSpec(COLLECTION, [("owner", ASCENDING), ("status", ASCENDING)]),
    IndexSpec(COLLECTION, [("status", ASCENDING), ("expires_at", ASCENDING)]),
    IndexSpec(RATES, [("expires_at", ASCENDING)], options={"expireAfterSeconds": 0}),  # counters of past windows
    *store_indexes(COLLECTION), *store_indexes(PROFILES), *store_indexes(SLOTS), *store_indexes(IDENTIFICATIONS),
    *store_indexes(RATES),
]
S = TypeVar("S")
_ROUTING = tuple(f.name for f in fields(Routing))
_SCALARS = tuple(f.name for f in fields(WorkItem) if f.name not in ("routing", "candidates", "attributes"))


class WorkItemCodec:
    """A work item as one flat document (the routing's fields beside the item's, for the inbox index)."""

    def encode(self, item: WorkItem) -> dict[str, Any]:
        doc = {name: getattr(item, name) for name in _SCALARS}
        doc.update(asdict(item.routing))
        doc["business_hours"] = _hours_doc(item.routing.business_hours)
        doc["candidates"] = list(item.candidates)
        doc["attributes"] = dict(item.attributes)
        return doc

    def decode(self, doc: Mapping[str, Any]) -> WorkItem:
        scalars = {name: doc[name] for name in _SCALARS if name in doc}
        scalars.setdefault("callback_id", doc["request_id"])  # stored before the id had a field of its own
        routing = {name: doc[name] for name in _ROUTING if name in doc}
        routing["business_hours"] = BusinessHours.from_doc(doc.get("business_hours"))
        return WorkItem(routing=Routing(**routing),
                        candidates=tuple(doc.get("candidates") or ()), attributes=dict(doc.get("attributes") or {}),
                        **scalars)


class ProfileCodec:
    def encode(self, profile: ReasonProfile) -> dict[str, Any]:
        return {**asdict(profile), "business_hours": _hours_doc(profile.business_hours)}

    def decode(self, doc: Mapping[str, Any]) -> ReasonProfile:
        known = {f.name for f in fields(ReasonProfile)}
        stored = {k: v for k, v in doc.items() if k in known}
        stored["business_hours"] = BusinessHours.from_doc(doc.get("business_hours"))
        return ReasonProfile(**stored)


def _hours_doc(hours: BusinessHours | None) -> dict[str, Any] | None:
    return hours.to_doc() if hours is not None else None


class SlotsCodec:
    def encode(self, slots: NumberSlots) -> dict[str, Any]:
        return {"open": [{"callback_id": s.callback_id, "since": s.since} for s in slots.open]}

    def decode(self, doc: Mapping[str, Any]) -> NumberSlots:
        return NumberSlots(tuple(Slot(s["callback_id"], s["since"]) for s in doc.get("open") or ()))


class RateCodec:
    def encode(self, count: RateCount) -> dict[str, Any]:
        return {"count": count.count, "expires_at": count.expires_at}

    def decode(self, doc: Mapping[str, Any]) -> RateCount:
        return RateCount(int(doc["count"]), doc["expires_at"])


class IdentityCodec:
    def encode(self, identity: CallerIdentity) -> dict[str, Any]:
        return {"account_id": identity.account_id, "candidates": list(identity.candidates),
                "callback_number": identity.looked_up_number}

    def decode(self, doc: Mapping[str, Any]) -> CallerIdentity:
        return CallerIdentity(account_id=doc.get("account_id"), candidates=tuple(doc.get("candidates") or ()),
                              looked_up_number=doc.get("callback_number"))


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


def _fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if not k.startswith("_")}


async def find_states(store: AggregateStore[S], query: Mapping[str, Any], sort: Sequence[tuple[str, int]],
                      limit: int = SCAN_LIMIT) -> list[S]:
    """The states matching ``query`` in ``sort`` order, read through the store (MongoDB or in memory)."""
    return [store.codec.decode(_fields(raw)) for raw in await store._find(query, sort, limit)]


class WorkItemQueries:
    """Reads of the work items beside the store: inbox pages and the scheduler's scans."""

    def __init__(self, store: AggregateStore[WorkItem]):
        self._store = store

    async def page(self, query: dict[str, Any], limit: int, after: InboxPosition | None) -> list[WorkItem]:
        where = {"$and": [query, _after(after)]} if after else query
        return await find_states(self._store, where, INBOX_ORDER, limit)

    async def of_agent(self, agent_id: str, limit: int, after: InboxPosition | None) -> list[WorkItem]:
        return await self.page({"owner": agent_id, "status": {"$in": ["claimed", "in_progress"]}}, limit, after)

    async def _scan(self, query: dict[str, Any]) -> list[str]:
        return [item.callback_id for item in await find_states(self._store, query, [("_id", 1)])]

    async def identification_over(self, now: datetime) -> list[str]:
        return await self._scan({"status": "scheduled", "identification": "pending", "identify_until": {"$lte": now}})

    async def window_opened(self, now: datetime) -> list[str]:
        return await self._scan({"status": "scheduled", "identification": {"$ne": "pending"},
                                 "visible_from": {"$lte": now}})

    async def window_passed(self, now: datetime) -> list[str]:
        return await self._scan({"status": {"$in": list(EXPIRABLE_STATUSES)}, "expires_at": {"$lte": now}})
