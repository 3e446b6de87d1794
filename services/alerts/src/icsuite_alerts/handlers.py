"""Use cases: project a consumed event and raise the alerts it triggers; manage rules; acknowledge."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from icsuite_contracts.alerts_v1 import AlertAcknowledged, AlertRaised
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope

from .domain.backtest import BacktestResult, run_backtest
from .domain.contacts import ContactState, agent_claimed, resolve
from .domain.evaluation import Match, evaluate
from .domain.facts import derive_facts, empty_facts
from .domain.observations import Observation, observe
from .domain.rules import STANDARD_RULES, Rule, RuleSpec, compile_rule
from .projection_store import ProjectionStore, account_from_doc
from .repository import AlertRepository, Claim, RuleRepository
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
    alert_written: Callable[[list[int]], None]
    clock: Callable[[], datetime] = utc_now
    backtest_max_events: int = 200_000
    dedupe_prune_grace_s: float = 3600.0

    # ---- consumed events ---------------------------------------------------------------------------
    async def on_event(self, envelope: Envelope) -> None:
        obs = observation_of(envelope)
        if obs.account_id is not None:  # the account does not depend on the contact: both at once
            (contact, outcome), account = await _both(self.projections.update_contact(obs),
                                                      self.projections.update_account(obs.account_id, obs))
            account_id, agent_id = resolve(obs, contact)
            facts = derive_facts(account, obs.time)
        else:
            contact, outcome = await self.projections.update_contact(obs)
            account_id, agent_id = resolve(obs, contact)
            facts = empty_facts()
            if account_id is not None:
                facts = derive_facts(await self.projections.update_account(account_id, obs), obs.time)
        rules = self.cache.book.rules_for(obs.type)
        matches = evaluate(rules, event=obs.activation_event(), facts=facts, event_id=obs.event_id,
                           event_type=obs.type, time=obs.time, account_id=account_id,
                           contact_id=obs.contact_id, agent_id=agent_id)
        effects = [self.raise_alerts(matches, envelope)] if matches else []
        if obs.contact_id is not None and contact.agent_id is not None and agent_claimed(obs) and (
                outcome.duplicate or (outcome.changed and ContactState.from_doc(outcome.previous).agent_id
                                      != contact.agent_id)):
            # the contact's agent became known (or this is a redelivery that may have stopped short)
            effects.append(self.assign_waiting_alerts(obs.contact_id, contact.agent_id))
        await _all(*effects)
        await self.projections.keep_event(obs)  # last: a kept event has had all its effects

    async def raise_alert(self, match: Match, cause: Envelope) -> bool:
        return bool(await self.raise_alerts([match], cause))

    async def raise_alerts(self, matches: list[Match], cause: Envelope) -> list[str]:
        """Claim the de-duplication windows (at once), take positions (one ``$inc``), insert (one write).

        A fresh claim means the alert cannot exist yet (its id is derived from the trigger event and the
        rule, and the window pointed elsewhere); only a claim this same alert held before (a redelivery)
        is checked for an alert already written.
        """
        claims = await self.alerts.claim_dedupe_many(matches)
        wanted = [m for m, claim in zip(matches, claims, strict=True) if claim is Claim.NEW]
        again = [m for m, claim in zip(matches, claims, strict=True) if claim is Claim.AGAIN]
        if again:
            written = await _all(*(self.alerts.exists(m.alert_id) for m in again))
            wanted += [m for m, exists in zip(again, written, strict=True) if not exists]
            wanted.sort(key=matches.index)
        if not wanted:
            return []
        positions = await self.alerts.next_positions(len(wanted))
        docs = [({"_id": m.alert_id, "position": p, **alert_fields(m), "status": "open",
                  "trigger_type": m.trigger_type}, raised_envelope(m, cause))
                for m, p in zip(wanted, positions, strict=True)]
        waiting: dict[str, list[str]] = {}
        for alert, _ in docs:
            if alert["agent_id"] is None and alert["target"] == "agent" and alert["contact_id"]:
                waiting.setdefault(alert["contact_id"], []).append(alert["_id"])
        # recorded before the insert, so that an agent that becomes known meanwhile finds them
        await _all(*(self.alerts.note_waiting(contact_id, ids) for contact_id, ids in waiting.items()))
        inserted = await self.alerts.insert_many(docs)  # a refused one leaves a gap the horizon skips
        for alert in inserted:
            self.kick_outbox("alerts", alert["_id"])
        self.alert_written([alert["position"] for alert in inserted])
        unassigned = [a for a in inserted if a["agent_id"] is None and a["target"] == "agent" and a["contact_id"]]
        for contact_id in dict.fromkeys(a["contact_id"] for a in unassigned):
            # the agent may have become known while this alert was being raised (another replica)
            agent_id = (await self.projections.contact(contact_id)).agent_id
            if agent_id is not None:
                await self.assign_waiting_alerts(contact_id, agent_id)
        return [alert["_id"] for alert in inserted]

    async def prune_dedupe_chains(self, *, now: datetime | None = None, grace_s: float | None = None) -> int:
        """Delete the de-duplication chains whose window (the rule's current one if longer) ended more than
        the grace ago; the number of chains. Safe in every replica at once."""
        windows = {doc["_id"]: int(doc["dedupe_window_s"]) for doc in await self.rules.all()}
        return await self.alerts.prune_dedupe(now=now or self.clock(), windows=windows,
                                              grace_s=self.dedupe_prune_grace_s if grace_s is None else grace_s)

    async def assign_waiting_alerts(self, contact_id: str, agent_id: str) -> int:
        """Give the contact's open, agent-less agent alerts to ``agent_id``, each with a new stream position.

        Idempotent: only alerts still without an agent change. A new position (above every position a
        stream has passed) makes the alert appear once on the agent's stream, live or after Last-Event-ID.
        """
        waiting = await self.alerts.unassigned(contact_id)
        if not waiting:
            return 0
        positions = await self.alerts.next_positions(len(waiting))
        done = await _all(*(self.alerts.assign(doc["_id"], agent_id, position=p, former=int(doc["position"]))
                            for doc, p in zip(waiting, positions, strict=True)))
        self.alert_written([p for p, ok in zip(positions, done, strict=True) if ok])
        return sum(done)

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


async def _all(*awaitables: Awaitable[Any]) -> list[Any]:
    """Await all at once; every one runs to its end, then the first error (unchanged) is raised.

    Unlike a task group this never wraps errors in an ``ExceptionGroup``, so the consumer still tells an
    unreachable database (retried without dead-lettering) from a failing handler.
    """
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


async def _both(first: Awaitable[Any], second: Awaitable[Any]) -> tuple[Any, Any]:
    a, b = await _all(first, second)
    return a, b


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
