"""Use cases: project a consumed event and raise the alerts it triggers; manage rules; acknowledge."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from icsuite_contracts.alerts_v1 import AlertAcknowledged, AlertRaised
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope

from .domain.backtest import BacktestResult, run_backtest
from .domain.contacts import resolve
from .domain.evaluation import Match, evaluate
from .domain.facts import derive_facts, empty_facts
from .domain.observations import Observation, observe
from .domain.rules import STANDARD_RULES, Rule, RuleSpec, compile_rule
from .projection_store import ProjectionStore, account_from_doc
from .repository import AlertRepository, RuleRepository
from .rulecache import RuleCache

SOURCE = "/alerts"


class RuleNotFound(Exception):
    pass


class RuleChanged(Exception):
    """The rule was changed by someone else since it was read."""


class AlertNotFound(Exception):
    pass


class AlertNotOpen(Exception):
    pass


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AlertsService:
    rules: RuleRepository
    alerts: AlertRepository
    projections: ProjectionStore
    cache: RuleCache
    kick_outbox: Callable[[str, Any], None]
    alert_written: Callable[[], None]
    clock: Callable[[], datetime] = utc_now
    backtest_max_events: int = 200_000

    # ---- consumed events ---------------------------------------------------------------------------
    async def on_event(self, envelope: Envelope) -> None:
        obs = observation_of(envelope)
        contact = await self.projections.update_contact(obs)
        account_id, agent_id = resolve(obs, contact)
        rules = self.cache.book.rules_for(obs.type)
        facts = empty_facts()
        if account_id is not None:
            facts = derive_facts(await self.projections.update_account(account_id, obs), obs.time)
        for match in evaluate(rules, event=obs.activation_event(), facts=facts, event_id=obs.event_id,
                              event_type=obs.type, time=obs.time, account_id=account_id,
                              contact_id=obs.contact_id, agent_id=agent_id):
            await self.raise_alert(match, envelope)
        await self.projections.keep_event(obs)  # last: a kept event has had all its effects

    async def raise_alert(self, match: Match, cause: Envelope) -> bool:
        if not await self.alerts.claim_dedupe(match) or await self.alerts.exists(match.alert_id):
            return False
        envelope = raised_envelope(match, cause)
        alert = {"_id": match.alert_id, "position": await self.alerts.next_position(), **alert_fields(match),
                 "status": "open", "trigger_type": match.trigger_type}
        if not await self.alerts.insert(alert, envelope):
            return False
        self.kick_outbox("alerts", match.alert_id)
        self.alert_written()
        return True

    # ---- rules ------------------------------------------------------------------------------------
    async def create_rule(self, spec: RuleSpec, *, by: str) -> dict[str, Any]:
        rule = Rule(f"rule-{uuid.uuid4().hex[:12]}", 1, spec)
        compile_rule(rule)
        doc = await self.rules.create(rule, by=by, now=self.clock())
        assert doc is not None, "a fresh rule id collided"
        await self.cache.refresh()
        return doc

    async def replace_rule(self, rule_id: str, spec: RuleSpec, *, by: str) -> dict[str, Any]:
        current = await self.rules.get(rule_id)
        if current is None:
            raise RuleNotFound(rule_id)
        version = int(current["version"]) + 1
        compile_rule(Rule(rule_id, version, spec))
        doc = await self.rules.replace(rule_id, spec, version=version, by=by, now=self.clock())
        if doc is None:
            raise RuleChanged(rule_id) if await self.rules.get(rule_id) else RuleNotFound(rule_id)
        await self.cache.refresh()
        return doc

    async def delete_rule(self, rule_id: str) -> None:
        if not await self.rules.delete(rule_id):
            raise RuleNotFound(rule_id)
        await self.cache.refresh()

    async def seed_standard_rules(self) -> None:
        if await self.rules.claim_first_start(self.clock()):
            for rule in STANDARD_RULES:
                await self.rules.create(rule, by="system", now=self.clock())
        await self.cache.refresh(force=True)

    async def backtest(self, spec: RuleSpec, *, start: datetime, end: datetime) -> BacktestResult:
        """What ``spec`` would have raised for the kept events between ``start`` and ``end``; raises nothing."""
        compiled = compile_rule(Rule("draft", 0, spec))
        observations = [obs async for obs in self.projections.kept_events(until=end, limit=self.backtest_max_events)]
        return run_backtest(compiled, observations, start=start, end=end)

    async def facts_now(self, account_id: str) -> dict[str, Any] | None:
        doc = await self.projections.accounts.find_one({"_id": account_id})
        return None if doc is None else derive_facts(account_from_doc(doc), self.clock())

    # ---- alerts -----------------------------------------------------------------------------------
    async def acknowledge(self, alert_id: str, *, by: str) -> dict[str, Any]:
        current = await self.alerts.get(alert_id)
        if current is None:
            raise AlertNotFound(alert_id)
        now = self.clock()
        event = AlertAcknowledged(alert_id=alert_id, rule_id=current["rule_id"], account_id=current.get("account_id"),
                                  agent_id=by, acknowledged_at=now)
        envelope = new_envelope(event, source=SOURCE, id=derive_event_id(alert_id, "acknowledged"),
                                correlation_id=current.get("contact_id") or alert_id, causation_id=alert_id)
        doc = await self.alerts.acknowledge(alert_id, by=by, now=now, envelope=envelope)
        if doc is None:
            raise AlertNotOpen(alert_id)
        self.kick_outbox("alerts", alert_id)
        return doc


def observation_of(envelope: Envelope) -> Observation:
    return observe(event_id=envelope.id, ce_type=envelope.type, time=envelope.time,
                   data=envelope.data.model_dump(mode="json"), source=envelope.source,
                   subject=envelope.subject, correlation_id=envelope.correlation_id,
                   causation_id=envelope.causation_id)


def alert_fields(match: Match) -> dict[str, Any]:
    rule = match.rule
    return {"alert_id": match.alert_id, "rule_id": rule.rule_id, "rule_version": rule.version,
            "severity": rule.spec.severity, "message": match.message, "account_id": match.account_id,
            "contact_id": match.contact_id, "agent_id": match.agent_id, "target": rule.spec.target,
            "raised_at": match.raised_at, "trigger_event_id": match.trigger_event_id}


def raised_envelope(match: Match, cause: Envelope) -> Envelope:
    event = AlertRaised(**alert_fields(match))
    return new_envelope(event, source=SOURCE, id=derive_event_id(match.alert_id, "raised"),
                        correlation_id=cause.correlation_id or match.contact_id or cause.id,
                        causation_id=cause.id)
