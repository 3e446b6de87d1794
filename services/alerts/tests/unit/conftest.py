"""The alerts service wired on the chassis's in-memory store, for handler unit tests.

Every write goes through ``InMemoryAggregateStore`` (the store the shared contract test holds to the same
behaviour as on MongoDB); the read queries here answer from its documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from icsuite_chassis.account_merge import ACCOUNT_MERGES, MergeRecordCodec
from icsuite_chassis.store import Change, InMemoryAggregateStore, Item, PlainCodec
from icsuite_chassis.store.matching import matches

from icsuite_alerts.domain.alerts import Alert
from icsuite_alerts.handlers import AlertsService
from icsuite_alerts.projections.accounts import AccountFacts
from icsuite_alerts.projections.contacts import CONTACTS
from icsuite_alerts.projections.event_log import SEQUENCES, EventLog
from icsuite_alerts.repository import (AbsenceCodec, AlertCodec, DedupeCodec, MarkerCodec, RuleCodec, StreamEntryCodec,
                                       WaitingCodec)
from icsuite_alerts.rulecache import RuleCache
from icsuite_alerts.settings import AlertsSettings
from icsuite_alerts.stream import AlertStream


class MemoryProjection:
    """What ``ProjectionWriter.apply`` does, on the in-memory store."""

    def __init__(self, name: str, codec: Any, project: Any, key: Any):
        self.store: InMemoryAggregateStore[Any] = InMemoryAggregateStore(name, codec)
        self._project, self._key = project, key

    def _decide(self, envelope: Any) -> Any:
        def decide(current: Any) -> Any:
            state = self._project(current.state if current is not None else None, envelope)
            return Change(state) if state is not None else None

        return decide

    async def apply(self, envelopes: list[Any]) -> list[Any]:
        items = [Item(key, self._decide(e), e.id) for e in envelopes if (key := self._key(e)) is not None]
        return await self.store.change_many(items) if items else []

    def indexes(self) -> list[Any]:
        return []


def _docs(store: InMemoryAggregateStore[Any], query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [doc for doc in store.documents.values() if matches(doc, query or {})]


class MemoryAbsenceQueries:
    def __init__(self, absences: InMemoryAggregateStore[Any]):
        self._absences = absences

    async def pending_for(self, aggregate: str) -> list[str]:
        return [d["_id"] for d in _docs(self._absences, {"aggregate": aggregate, "status": "pending"})]

    async def next_due(self) -> datetime | None:
        return min((d["due_at"] for d in _docs(self._absences, {"status": "pending"})), default=None)

    async def due(self, now: datetime, limit: int = 100) -> list[str]:
        due = [d for d in _docs(self._absences) if d["status"] in ("pending", "firing") and d["due_at"] <= now]
        return [d["_id"] for d in sorted(due, key=lambda d: d["due_at"])][:limit]


class MemoryRuleQueries:
    def __init__(self, rules: InMemoryAggregateStore[Any]):
        self._rules = rules

    async def all(self) -> list[Any]:
        records = [RuleCodec().decode(doc) for doc in _docs(self._rules)]
        return sorted((r for r in records if not r.deleted), key=lambda r: r.rule.rule_id)

    async def get(self, rule_id: str, *, history: bool = False) -> Any:
        doc = self._rules.documents.get(rule_id)
        record = RuleCodec().decode(doc) if doc else None
        return None if record is None or record.deleted else record


class MemoryAlertQueries:
    def __init__(self, alerts: InMemoryAggregateStore[Alert], entries: InMemoryAggregateStore[Any]):
        self._alerts, self._entries = alerts, entries

    async def get(self, alert_id: str) -> Alert | None:
        doc = self._alerts.documents.get(alert_id)
        return AlertCodec().decode(doc) if doc else None

    async def many(self, alert_ids: list[str]) -> list[Alert]:
        return [a for a in [await self.get(i) for i in alert_ids] if a is not None]

    async def taken(self, after: int, count: int) -> set[int]:
        return {p for p in range(after + 1, after + count + 1) if p in self._entries.documents}

    async def first_entry(self) -> int | None:
        return min(self._entries.documents, default=None)

    async def last_alert_position(self) -> int:
        return max((int(d["position"]) for d in _docs(self._alerts)), default=0)

    async def entries(self, audience: dict[str, Any], *, after: int, upto: int, limit: int) -> list[dict[str, Any]]:
        found = [d for p, d in sorted(self._entries.documents.items()) if after < p <= upto
                 and d.get("alert_id") and matches(d, audience)]
        return [{**StreamEntryCodec().decode(d).alert, "position": d["_id"]} for d in found][:limit]


def memory_service(clock: Any, *, twin_of: AlertsService | None = None, **settings: Any) -> AlertsService:
    """A service on in-memory stores; ``twin_of``: a second replica on the same documents."""
    if twin_of is not None:
        names = ("rules", "meta", "alerts", "dedupe", "waiting", "absences")
        stores = {name: getattr(twin_of, name).shared_with() for name in names}
        entries = twin_of.stream._entries.shared_with()
        contacts, accounts, event_log = twin_of.contacts, twin_of.accounts, twin_of.event_log
    else:
        stores = {"rules": InMemoryAggregateStore("rules", RuleCodec()),
                  "meta": InMemoryAggregateStore("meta", MarkerCodec()),
                  "alerts": InMemoryAggregateStore("alerts", AlertCodec()),
                  "dedupe": InMemoryAggregateStore("alert_dedupe", DedupeCodec()),
                  "waiting": InMemoryAggregateStore("alert_waiting", WaitingCodec()),
                  "absences": InMemoryAggregateStore("alert_absences", AbsenceCodec())}
        entries = InMemoryAggregateStore("alert_stream", StreamEntryCodec())
        contacts = MemoryProjection(*CONTACTS)
        accounts = AccountFacts(MemoryProjection, InMemoryAggregateStore(ACCOUNT_MERGES, MergeRecordCodec()))
        event_log = EventLog(MemoryProjection, InMemoryAggregateStore(SEQUENCES, PlainCodec()))
    queries = MemoryAlertQueries(stores["alerts"], entries)
    rule_queries = MemoryRuleQueries(stores["rules"])
    return AlertsService(**stores, absence_queries=MemoryAbsenceQueries(stores["absences"]),  # type: ignore[arg-type]
                         contacts=contacts, accounts=accounts, event_log=event_log,  # type: ignore[arg-type]
                         rule_queries=rule_queries, alert_queries=queries,  # type: ignore[arg-type]
                         stream=AlertStream(queries, entries, stores["alerts"], poll_interval_s=0.01),  # type: ignore[arg-type]
                         cache=RuleCache(rule_queries, stores["meta"]),  # type: ignore[arg-type]
                         settings=AlertsSettings(**settings), clock=clock)


@pytest.fixture
def make_service() -> Any:
    return memory_service
