"""MongoDB repositories of the rules (with their version history) and of the raised alerts."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import datetime
from typing import Any

from icsuite_chassis.mongo import IndexSpec, is_duplicate_key
from icsuite_chassis.outbox import OUTBOX_FIELD, outbox_entries, outbox_push
from icsuite_contracts.cloudevents import Envelope
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from .dedupe_store import DEDUPE_READ_AHEAD, Claim, DedupeChains, dedupe_id, insert_unordered
from .domain.evaluation import Match
from .domain.rules import Rule, RuleSpec

INDEXES = [IndexSpec("alerts", [("position", 1)], unique=True), IndexSpec("alerts", [("contact_id", 1)]),
           IndexSpec("alerts", [("former_positions", 1)])]
HISTORY_KEEP = 100
STREAM_WINDOW = 64  # positions the horizon checks per round trip
STREAM_LOOKUP_MAX = 512  # a stream range up to this many positions is read by position, a longer one by a query
__all__ = ["DEDUPE_READ_AHEAD", "AlertRepository", "Claim", "RuleRepository", "dedupe_id"]  # claims: dedupe_store
_PUBLIC = {"_id": 0, OUTBOX_FIELD: 0, "history": 0}


def rule_from_doc(doc: dict[str, Any]) -> Rule:
    spec = RuleSpec(name=doc["name"], triggers=tuple(doc["triggers"]), condition=doc["condition"],
                    severity=doc["severity"], message=doc["message"], target=doc["target"],
                    dedupe_window_s=int(doc["dedupe_window_s"]), enabled=bool(doc["enabled"]))
    return Rule(doc["_id"], int(doc["version"]), spec, bool(doc.get("standard")))


def _spec_fields(spec: RuleSpec) -> dict[str, Any]:
    fields = asdict(spec)
    fields["triggers"] = list(spec.triggers)
    return fields


class RuleRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self.rules = db["rules"]
        self.meta = db["meta"]

    async def revision(self) -> int:
        doc = await self.meta.find_one({"_id": "rules_revision"})
        return int(doc["value"]) if doc else 0

    async def _bump_revision(self) -> None:
        await self.meta.update_one({"_id": "rules_revision"}, {"$inc": {"value": 1}}, upsert=True)

    async def all(self) -> list[dict[str, Any]]:
        return [doc async for doc in self.rules.find({}, {"history": 0}).sort("_id", 1)]

    async def get(self, rule_id: str, *, history: bool = False) -> dict[str, Any] | None:
        return await self.rules.find_one({"_id": rule_id}, None if history else {"history": 0})

    async def create(self, rule: Rule, *, by: str, now: datetime) -> dict[str, Any] | None:
        """Store a new rule; None if the id exists."""
        fields = _spec_fields(rule.spec)
        doc = {"_id": rule.rule_id, "version": rule.version, **fields, "standard": rule.standard,
               "created_at": now, "updated_at": now, "updated_by": by,
               "history": [{"version": rule.version, **fields, "saved_at": now, "saved_by": by}]}
        try:
            await self.rules.insert_one(doc)
        except Exception as exc:
            if is_duplicate_key(exc):
                return None
            raise
        await self._bump_revision()
        doc.pop("history")
        return doc

    async def replace(self, rule_id: str, spec: RuleSpec, *, version: int, by: str,
                      now: datetime) -> dict[str, Any] | None:
        """Save ``spec`` as version ``version`` if the stored rule is still at ``version - 1``."""
        fields = _spec_fields(spec)
        entry = {"version": version, **fields, "saved_at": now, "saved_by": by}
        doc = await self.rules.find_one_and_update(
            {"_id": rule_id, "version": version - 1},
            {"$set": {**fields, "version": version, "updated_at": now, "updated_by": by},
             "$push": {"history": {"$each": [entry], "$slice": -HISTORY_KEEP}}},
            projection={"history": 0}, return_document=ReturnDocument.AFTER)
        if doc is not None:
            await self._bump_revision()
        return doc

    async def delete(self, rule_id: str) -> bool:
        result = await self.rules.delete_one({"_id": rule_id})
        if result.deleted_count:
            await self._bump_revision()
        return bool(result.deleted_count)

    async def claim_first_start(self, now: datetime) -> bool:
        """True exactly once per database: the first start seeds the standard rules."""
        result = await self.meta.update_one({"_id": "seeded"}, {"$setOnInsert": {"at": now}}, upsert=True)
        return result.upserted_id is not None


class AlertRepository:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self.alerts = db["alerts"]
        self.dedupe = db["alert_dedupe"]
        self.dedupe_chains = DedupeChains(self.dedupe)
        self.meta = db["meta"]
        self.waiting = db["alert_waiting"]
        self.former = db["alert_former_positions"]

    async def claim_dedupe(self, match: Match) -> Claim:
        return (await self.claim_dedupe_many([match]))[0]

    async def claim_dedupe_many(self, matches: list[Match]) -> list[Claim]:
        """Take each match's de-duplication window atomically (see :mod:`.dedupe_store`)."""
        return await self.dedupe_chains.claim_many(matches)

    async def prune_dedupe(self, *, now: datetime, windows: dict[str, int], grace_s: float) -> int:
        """Delete the de-duplication chains whose last raise no longer matters; the number of chains."""
        return await self.dedupe_chains.prune(now=now, windows=windows, grace_s=grace_s)

    async def next_positions(self, count: int) -> list[int]:
        """``count`` consecutive stream positions in one ``$inc``."""
        doc = await self.meta.find_one_and_update({"_id": "alert_position"}, {"$inc": {"value": count}},
                                                  upsert=True, return_document=ReturnDocument.AFTER)
        last = int(doc["value"])
        return list(range(last - count + 1, last + 1))

    async def next_position(self) -> int:
        return (await self.next_positions(1))[0]

    async def insert_many(self, alerts: list[tuple[dict[str, Any], Envelope]]) -> list[dict[str, Any]]:
        """Insert the alerts (unordered, one round trip); answers those written (an existing id is skipped)."""
        docs = [{**alert, OUTBOX_FIELD: outbox_entries([envelope])} for alert, envelope in alerts]
        failed = await insert_unordered(self.alerts, docs)
        return [alert for i, (alert, _) in enumerate(alerts) if i not in failed]

    async def insert(self, alert: dict[str, Any], envelope: Envelope) -> bool:
        return bool(await self.insert_many([(alert, envelope)]))

    async def exists(self, alert_id: str) -> bool:
        return await self.alerts.find_one({"_id": alert_id}, {"_id": 1}) is not None

    async def note_waiting(self, contact_id: str, alert_ids: list[str]) -> None:
        """Record agent-less agent alerts of a contact (before they are inserted), keyed by the contact.

        So that :meth:`unassigned` reads by ``_id`` instead of querying the alerts by contact (a scan on the
        MongoDB-wire server). Idempotent (``$addToSet``).
        """
        await self.waiting.update_one({"_id": contact_id}, {"$addToSet": {"alert_ids": {"$each": alert_ids}}},
                                      upsert=True)

    async def unassigned(self, contact_id: str) -> list[dict[str, Any]]:
        """The contact's open agent alerts that have no agent yet, oldest first."""
        noted = await self.waiting.find_one({"_id": contact_id})
        if not noted or not noted.get("alert_ids"):
            return []
        fields = {"_id": 1, "position": 1, "contact_id": 1, "agent_id": 1, "target": 1, "status": 1}
        docs = [doc async for doc in self.alerts.find({"_id": {"$in": list(noted["alert_ids"])}}, fields)]
        waiting = [d for d in docs if d.get("contact_id") == contact_id and d.get("agent_id") is None
                   and d.get("target") == "agent" and d.get("status") == "open"]
        return sorted(waiting, key=lambda d: d["position"])

    async def assign(self, alert_id: str, agent_id: str, *, position: int, former: int) -> bool:
        """Give an unassigned open alert its agent and a new stream position (idempotent: only once).

        The old position stays listed in the alert's ``former_positions``, and is recorded first in the
        ``alert_former_positions`` collection (keyed by position, read by ``_id``), so that the stream
        horizon never sees a gap there.
        """
        await self.former.update_one({"_id": former}, {"$setOnInsert": {"alert_id": alert_id}}, upsert=True)
        result = await self.alerts.update_one(
            {"_id": alert_id, "agent_id": None, "target": "agent", "status": "open", "position": former},
            {"$set": {"agent_id": agent_id, "position": position}, "$push": {"former_positions": former}})
        return bool(result.modified_count)

    async def get(self, alert_id: str) -> dict[str, Any] | None:
        return await self.alerts.find_one({"_id": alert_id}, _PUBLIC)

    async def acknowledge(self, alert_id: str, *, by: str, now: datetime,
                          envelope: Envelope) -> dict[str, Any] | None:
        return await self.alerts.find_one_and_update(
            {"_id": alert_id, "status": "open"},
            {"$set": {"status": "acknowledged", "acknowledged_at": now, "acknowledged_by": by},
             **outbox_push([envelope])},
            projection=_PUBLIC, return_document=ReturnDocument.AFTER)

    async def page(self, filters: dict[str, Any], *, before: int | None, limit: int) -> list[dict[str, Any]]:
        query = dict(filters)
        if before is not None:
            query["position"] = {"$lt": before}
        cursor = self.alerts.find(query, _PUBLIC).sort("position", -1).limit(limit)
        return [doc async for doc in cursor]

    async def for_stream(self, audience: dict[str, Any], *, after: int, upto: int,
                         limit: int = 100) -> list[dict[str, Any]]:
        """The audience's alerts at positions in (after, upto], oldest first.

        A short range (the live stream) is read by position (``$in`` on the unique ``position`` index, the
        only kind the MongoDB-wire server uses) and filtered here; a long one (a replay) by a query.
        """
        if upto - after <= STREAM_LOOKUP_MAX:
            if upto <= after:
                return []
            docs = [doc async for doc in self.alerts.find({"position": {"$in": list(range(after + 1, upto + 1))}},
                                                          _PUBLIC)]
            return sorted((d for d in docs if matches_filter(audience, d)), key=lambda d: d["position"])[:limit]
        query = {**audience, "position": {"$gt": after, "$lte": upto}}
        cursor = self.alerts.find(query, _PUBLIC).sort("position", 1).limit(limit)
        return [doc async for doc in cursor]

    async def open_since(self, audience: dict[str, Any], *, since: datetime, upto: int,
                         limit: int = 100) -> list[dict[str, Any]]:
        """The audience's open alerts raised since ``since``, up to stream position ``upto``, oldest first."""
        query = {**audience, "status": "open", "raised_at": {"$gte": since}, "position": {"$lte": upto}}
        cursor = self.alerts.find(query, _PUBLIC).sort("position", 1).limit(limit)
        return [doc async for doc in cursor]

    async def visible_positions(self, after: int, count: int = STREAM_WINDOW) -> set[int]:
        """Which of the ``count`` positions after ``after`` are taken and written (or were, before a
        reassignment): ``$in`` on the unique ``position`` index and on the former positions' ``_id``."""
        wanted = list(range(after + 1, after + count + 1))
        current = self.alerts.find({"position": {"$in": wanted}}, {"_id": 0, "position": 1}).to_list()
        former = self.former.find({"_id": {"$in": wanted}}, {"_id": 1}).to_list()
        now, before = await asyncio.gather(current, former)
        return {int(d["position"]) for d in now} | {int(d["_id"]) for d in before}

    async def positions_taken(self) -> int:
        """The last position handed out by the counter (written or not)."""
        doc = await self.meta.find_one({"_id": "alert_position"})
        return int(doc["value"]) if doc else 0

    async def positions_after(self, after: int, limit: int = 1000) -> list[int]:
        """Positions taken and written after ``after``, including the former positions of reassigned alerts.

        A query (it scans on the MongoDB-wire server): only for a gap wider than the horizon's window.
        """
        query = {"$or": [{"position": {"$gt": after}}, {"former_positions": {"$gt": after}}]}
        cursor = self.alerts.find(query, {"position": 1, "former_positions": 1}).sort("position", 1).limit(limit)
        positions: set[int] = set()
        async for doc in cursor:
            positions.add(int(doc["position"]))
            positions.update(int(p) for p in doc.get("former_positions") or ())
        return sorted(p for p in positions if p > after)

    async def last_position(self) -> int:
        doc = await self.alerts.find_one({}, {"position": 1}, sort=[("position", -1)])
        return int(doc["position"]) if doc else 0


def matches_filter(query: dict[str, Any], doc: dict[str, Any]) -> bool:
    """``doc`` matches ``query`` made of equalities and ``$or`` (the stream audiences)."""
    for key, value in query.items():
        if key == "$or":
            if not any(matches_filter(q, doc) for q in value):
                return False
        elif isinstance(value, dict):
            raise ValueError(f"unsupported filter on {key!r}")
        elif doc.get(key) != value:
            return False
    return True
