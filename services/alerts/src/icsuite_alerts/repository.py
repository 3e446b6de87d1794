"""Codecs of the documents the service owns, and the read queries of the gateway and the stream."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.store import store_indexes
from pymongo.asynchronous.database import AsyncDatabase

from .domain.absences import PendingAbsence
from .domain.alerts import Alert, DedupeClaim, StreamEntry
from .domain.rule_records import Marker, RuleRecord
from .domain.rules import MAX_DEDUPE_WINDOW_S, Absence, Rule, RuleSpec

ORIGINAL_STANDARD_RULES = ("std-dunning-level", "std-third-contact-7d", "std-open-callback",
                           "std-overdue-followup", "std-high-balance")
STREAM_LOOKUP_MAX = 512  # a stream range up to this many positions is read by `_id`, a longer one by a query
INDEXES = [
    *store_indexes("rules"), *store_indexes("meta"), *store_indexes("alerts"), *store_indexes("alert_stream"),
    *store_indexes("alert_dedupe"), *store_indexes("alert_waiting"), *store_indexes("alert_absences"),
    IndexSpec("alert_absences", [("aggregate", 1), ("status", 1)]),
    IndexSpec("alert_absences", [("status", 1), ("due_at", 1)]),
    IndexSpec("alerts", [("position", -1)], name="position_newest_first"),
    IndexSpec("alerts", [("contact_id", 1)]),
    IndexSpec("alert_stream", [("agent_id", 1), ("_id", 1)]),
    IndexSpec("alert_dedupe", [("expires_at", 1)], name="expires_at_ttl", options={"expireAfterSeconds": 0}),
]
_PUBLIC = {"_outbox": 0, "_applied": 0}


def aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class RuleCodec:
    def encode(self, record: RuleRecord) -> dict[str, Any]:
        spec = record.rule.spec
        return {"rule_id": record.rule.rule_id, "version": record.rule.version, "name": spec.name, "triggers": list(spec.triggers),
                "condition": spec.condition, "severity": spec.severity, "message": spec.message,
                "target": spec.target, "dedupe_window_s": spec.dedupe_window_s, "enabled": spec.enabled,
                "after": after_fields(spec.after), "standard": record.rule.standard, "created_at": record.created_at, "updated_at": record.updated_at,
                "updated_by": record.updated_by, "history": list(record.history), "deleted": record.deleted}

    def decode(self, doc: Mapping[str, Any]) -> RuleRecord:
        spec = RuleSpec(name=doc["name"], triggers=tuple(doc["triggers"]), condition=doc["condition"],
                        severity=doc["severity"], message=doc["message"], target=doc["target"],
                        dedupe_window_s=int(doc["dedupe_window_s"]), enabled=bool(doc["enabled"]),
                        after=absence_from(doc.get("after")))
        rule = Rule(doc.get("rule_id") or doc.get("_id") or "", int(doc["version"]), spec, bool(doc.get("standard")))
        return RuleRecord(rule, aware(doc.get("created_at")), aware(doc.get("updated_at")),
                          doc.get("updated_by") or "", tuple(doc.get("history") or ()), bool(doc.get("deleted")))


def after_fields(after: Absence | None) -> dict[str, Any] | None:
    return None if after is None else {"within_s": after.within_s, "unless": list(after.unless)}


def absence_from(doc: Mapping[str, Any] | None) -> Absence | None:
    return None if not doc else Absence(int(doc["within_s"]), tuple(doc.get("unless") or ()))


class AbsenceCodec:
    def encode(self, absence: PendingAbsence) -> dict[str, Any]:
        return {**absence.__dict__, "unless": list(absence.unless)}

    def decode(self, doc: Mapping[str, Any]) -> PendingAbsence:
        fields = {k: aware(v) for k, v in doc.items() if k in PendingAbsence.__dataclass_fields__}
        return PendingAbsence(**{**fields, "unless": tuple(doc.get("unless") or ())})


class AbsenceQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._absences = db["alert_absences"]

    async def pending_for(self, aggregate: str) -> list[str]:
        """The ids of the aggregate's pending absences."""
        cursor = self._absences.find({"aggregate": aggregate, "status": "pending"}, {"_id": 1})
        return [doc["_id"] async for doc in cursor]

    async def next_due(self) -> datetime | None:
        """The earliest due time of a pending absence (the query names both keys of the status/due index)."""
        query = {"status": "pending", "due_at": {"$gt": datetime(1970, 1, 1, tzinfo=UTC)}}
        doc = await self._absences.find_one(query, {"due_at": 1}, sort=[("due_at", 1)])
        return aware(doc["due_at"]) if doc is not None else None

    async def due(self, now: datetime, limit: int = 100) -> list[str]:
        """The ids of the absences due by ``now`` that are pending or were left firing, oldest first."""
        query = {"status": {"$in": ["pending", "firing"]}, "due_at": {"$lte": now}}
        return [doc["_id"] async for doc in self._absences.find(query, {"_id": 1}).sort("due_at", 1).limit(limit)]


class MarkerCodec:
    def encode(self, marker: Marker) -> dict[str, Any]:
        return {"value": marker.value, "ids": list(marker.ids)}

    def decode(self, doc: Mapping[str, Any]) -> Marker:
        ids = doc.get("ids")
        if ids is None and "at" in doc:  # the seeding mark of an earlier version: the first five were seeded
            ids = ORIGINAL_STANDARD_RULES
        return Marker(int(doc.get("value") or 0), tuple(ids or ()))


class AlertCodec:
    def encode(self, alert: Alert) -> dict[str, Any]:
        return {**alert.public(), "former_positions": list(alert.former_positions)}

    def decode(self, doc: Mapping[str, Any]) -> Alert:
        fields = {k: aware(v) for k, v in doc.items() if k in Alert.__dataclass_fields__}
        fields["former_positions"] = tuple(doc.get("former_positions") or ())
        fields.setdefault("alert_id", doc.get("_id"))
        fields.setdefault("trigger_type", None)
        fields.setdefault("trigger_event_id", None)
        return Alert(**fields)


class StreamEntryCodec:
    def encode(self, entry: StreamEntry) -> dict[str, Any]:
        return {"alert_id": entry.alert_id, "agent_id": entry.alert.get("agent_id"),
                "target": entry.alert.get("target"), "alert": entry.alert}

    def decode(self, doc: Mapping[str, Any]) -> StreamEntry:
        alert = {k: aware(v) for k, v in (doc.get("alert") or {}).items()}
        return StreamEntry(doc.get("alert_id"), alert)


class DedupeCodec:
    def encode(self, claim: DedupeClaim) -> dict[str, Any]:
        return {"alert_id": claim.alert_id, "last_at": claim.last_at, "expires_at": claim.expires_at}

    def decode(self, doc: Mapping[str, Any]) -> DedupeClaim:
        last_at = aware(doc["last_at"])
        expires = doc.get("expires_at") or doc.get("x")  # `x`: written by an earlier version
        if expires is None:
            expires = last_at + timedelta(seconds=MAX_DEDUPE_WINDOW_S)
        return DedupeClaim(doc.get("alert_id") or "", last_at, aware(expires))


class WaitingCodec:
    """The agent alerts of a contact raised before its agent was known (``alert_waiting``, by contact)."""

    def encode(self, alert_ids: tuple[str, ...]) -> dict[str, Any]:
        return {"alert_ids": list(alert_ids)}

    def decode(self, doc: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(doc.get("alert_ids") or ())


class RuleQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._rules = db["rules"]
        self._codec = RuleCodec()

    async def all(self) -> list[RuleRecord]:
        cursor = self._rules.find({"deleted": {"$ne": True}}, {"history": 0}).sort("_id", 1)
        return [self._codec.decode(doc) async for doc in cursor]

    async def get(self, rule_id: str, *, history: bool = False) -> RuleRecord | None:
        doc = await self._rules.find_one({"_id": rule_id}, None if history else {"history": 0})
        record = self._codec.decode(doc) if doc is not None else None
        return None if record is None or record.deleted else record


class AlertQueries:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._alerts = db["alerts"]
        self._stream = db["alert_stream"]
        self._codec = AlertCodec()
        self._entries = StreamEntryCodec()

    async def get(self, alert_id: str) -> Alert | None:
        doc = await self._alerts.find_one({"_id": alert_id}, _PUBLIC)
        return self._codec.decode(doc) if doc is not None else None

    async def many(self, alert_ids: list[str]) -> list[Alert]:
        return [self._codec.decode(doc) async for doc in self._alerts.find({"_id": {"$in": alert_ids}}, _PUBLIC)]

    async def page(self, filters: dict[str, Any], *, before: int | None, limit: int) -> list[Alert]:
        query = dict(filters)
        if before is not None:
            query["position"] = {"$lt": before}
        cursor = self._alerts.find(query, _PUBLIC).sort("position", -1).limit(limit)
        return [self._codec.decode(doc) async for doc in cursor]

    async def open_since(self, audience: dict[str, Any], *, since: datetime, upto: int,
                         limit: int = 100) -> list[Alert]:
        """The audience's open alerts raised since ``since``, up to stream position ``upto``, oldest first."""
        query = {**audience, "status": "open", "raised_at": {"$gte": since}, "position": {"$lte": upto}}
        cursor = self._alerts.find(query, _PUBLIC).sort("position", 1).limit(limit)
        return [self._codec.decode(doc) async for doc in cursor]

    async def last_alert_position(self) -> int:
        doc = await self._alerts.find_one({}, {"position": 1}, sort=[("position", -1)])
        return int(doc["position"]) if doc and doc.get("position") is not None else 0

    async def taken(self, after: int, count: int) -> set[int]:
        """Which of the ``count`` positions after ``after`` are taken (read by ``_id``)."""
        wanted = list(range(after + 1, after + count + 1))
        return {int(doc["_id"]) async for doc in self._stream.find({"_id": {"$in": wanted}}, {"_id": 1})}

    async def first_entry(self) -> int | None:
        doc = await self._stream.find_one({}, {"_id": 1}, sort=[("_id", 1)])
        return int(doc["_id"]) if doc else None

    async def last_entry(self) -> int | None:
        doc = await self._stream.find_one({}, {"_id": 1}, sort=[("_id", -1)])
        return int(doc["_id"]) if doc else None

    async def entries(self, audience: dict[str, Any], *, after: int, upto: int, limit: int) -> list[dict[str, Any]]:
        """The audience's alerts at positions in (after, upto], oldest first, as they were delivered.

        A short range (the live stream) is read by ``_id`` and filtered here; a long one by a query.
        """
        if upto <= after:
            return []
        if upto - after <= STREAM_LOOKUP_MAX:
            cursor = self._stream.find({"_id": {"$in": list(range(after + 1, upto + 1))}})
            docs = sorted([doc async for doc in cursor], key=lambda d: d["_id"])
        else:
            query = {**audience, "_id": {"$gt": after, "$lte": upto}}
            docs = [doc async for doc in self._stream.find(query).sort("_id", 1).limit(limit)]
        found = []
        for doc in docs:
            entry = self._entries.decode(doc)
            if not entry.base and matches_filter(audience, doc):
                found.append({**entry.alert, "position": int(doc["_id"])})
        return found[:limit]


def matches_filter(query: dict[str, Any], doc: Mapping[str, Any]) -> bool:
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
