"""Use cases: project a consumed event and raise the alerts it triggers; manage rules; acknowledge.

Each is load, decide (``domain/``), save through the store; the alert stream's positions are taken in
:mod:`.stream`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from icsuite_chassis.clock import Clock, utc_now
from icsuite_chassis.store import AggregateStore, Item
from icsuite_contracts.cloudevents import Envelope

from .alert_events import acknowledged_envelope, raised_envelope
from .domain.absences import FIRING, PendingAbsence, absence_of, aggregate_of, decide_cancel, decide_fire, \
    decide_pend, decide_raised, match_of
from .domain.alerts import Alert, Claim, DedupeClaim, alert_of, claim_of, claims_window, decide_acknowledge, \
    decide_assign, decide_claim, decide_note_waiting, decide_raise
from .domain.backtest import BacktestResult, run_backtest
from .domain.contacts import ContactState, names_agent, resolve
from .domain.errors import FactsNotFound, RuleNotFound
from .domain.evaluation import Match, RuleFailure, evaluate
from .domain.facts import derive_facts, empty_facts
from .domain.rule_records import Marker, RuleRecord, decide_bump, decide_create, decide_delete, decide_replace, \
    decide_seed
from .domain.rules import STANDARD_RULES, Rule, RuleSpec, compile_rule
from .projections import AccountFacts, EventLog, observation_of
from .repository import AbsenceQueries, AlertQueries, RuleQueries
from .rulecache import RuleCache
from .settings import AlertsSettings
from .stream import AlertStream



@dataclass
class AlertsService:
    rules: AggregateStore[RuleRecord]
    meta: AggregateStore[Marker]
    alerts: AggregateStore[Alert]
    dedupe: AggregateStore[DedupeClaim]
    waiting: AggregateStore[tuple[str, ...]]
    absences: AggregateStore[PendingAbsence]
    absence_queries: AbsenceQueries
    contacts: Any  # ProjectionWriter[ContactState] (or its in-memory twin)
    accounts: AccountFacts
    event_log: EventLog
    rule_queries: RuleQueries
    alert_queries: AlertQueries
    stream: AlertStream
    cache: RuleCache
    settings: AlertsSettings
    clock: Clock = utc_now
    _backtests: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    _absence_added: asyncio.Event = field(default_factory=asyncio.Event)

    # ---- consumed events ---------------------------------------------------------------------------
    async def on_event(self, envelope: Envelope) -> None:
        await self.on_events([envelope])

    async def on_events(self, envelopes: Sequence[Envelope]) -> None:
        """A consumer batch: each projection takes the whole batch at once (one read, one write per
        document), each event's rules are evaluated on the facts right after it, and the alerts of the whole
        batch are raised together (one claim, one store and one stream write for all, in event order). Then,
        event by event in order, the absence rules' pending checks are stored or cancelled and waiting alerts
        given to the agent who claimed the contact."""
        contacts = await self._contacts_after(envelopes)
        routes = [resolve(observation_of(e), contact) for e, (contact, _) in zip(envelopes, contacts, strict=True)]
        accounts = await self.accounts.after_each(envelopes, [account_id for account_id, _ in routes])
        evaluated = []
        for envelope, route, account in zip(envelopes, routes, accounts, strict=True):
            evaluated.append(self._evaluate(envelope, route, account))
            await asyncio.sleep(0)  # ~3 ms of CPU per event at 1,000 rules: streams and heartbeats go on between
        now_matches = [(m, envelope) for envelope, matches in zip(envelopes, evaluated, strict=True)
                       for m in matches if m.rule.spec.after is None]
        if now_matches:
            await self._raise(now_matches)
        # one read of the noted alerts of the contacts whose agent an event names (see _raise for a replica's)
        naming = [observation_of(e).contact_id for e, (contact, again) in zip(envelopes, contacts, strict=True)
                  if names_agent(observation_of(e), contact, again)]
        noted = await self.waiting.get_many(naming) if naming else {}
        for envelope, (contact, again), matches in zip(envelopes, contacts, evaluated, strict=True):
            obs = observation_of(envelope)
            absent = [m for m in matches if m.rule.spec.after is not None]
            if absent:
                await self.wait_for_absences(absent, envelope)
            if obs.type in self.cache.book.unless:
                await self.cancel_absences(envelope)
            if obs.contact_id in noted and names_agent(obs, contact, again):
                await self.assign_waiting_alerts(obs.contact_id, contact.agent_id)  # type: ignore[arg-type]
        await self.event_log.keep(envelopes)  # last: a kept event has had all its effects

    def _evaluate(self, envelope: Envelope, route: tuple[str | None, str | None], account: Any) -> list[Match]:
        """The rules of the event's type that match it, on the facts of its account right after it."""
        obs = observation_of(envelope)
        account_id, agent_id = route
        facts = derive_facts(account, obs.time) if account is not None else empty_facts()
        failures: list[RuleFailure] = []
        event = obs.activation_event()
        matches = evaluate(self.cache.book.candidates(obs.type, event, facts), event=event, facts=facts,
                           event_id=obs.event_id, event_type=obs.type, time=obs.time, account_id=account_id,
                           contact_id=obs.contact_id, agent_id=agent_id, failures=failures)
        if failures:
            self.cache.report(failures, self.clock())
        return matches

    async def _contacts_after(self, envelopes: Sequence[Envelope]) -> list[tuple[ContactState, bool]]:
        """Each event's contact right after it, and whether the event was applied to it before."""
        outcomes = iter(await self.contacts.apply(envelopes))
        after = []
        for envelope in envelopes:
            if observation_of(envelope).contact_id is None:
                after.append((ContactState(), False))
                continue
            outcome = next(outcomes)
            after.append((outcome.stored.state if outcome.stored is not None else ContactState(), outcome.duplicate))
        return after

    async def raise_alerts(self, matches: list[Match], cause: Envelope | tuple[str, str]) -> list[Alert]:
        return await self._raise([(m, cause) for m in matches])

    async def _raise(self, caused: list[tuple[Match, Envelope | tuple[str, str]]]) -> list[Alert]:
        """Claim the windows (one batch, decisions chained in order per window; rules without a window
        claim none), store the alerts with their events, put them on the stream; each match with its cause
        (a trigger event, or an absence's ``(aggregate, trigger id)``)."""
        windowed = [i for i, (m, _) in enumerate(caused) if claims_window(m)]
        claims = await self.dedupe.change_many(
            [Item(caused[i][0].dedupe_key, decide_claim(caused[i][0], keep_s=self.settings.dedupe_keep_s))
             for i in windowed]) if windowed else []
        refused = {i for i, outcome in zip(windowed, claims, strict=True)
                   if claim_of(outcome, caused[i][0]) is Claim.REFUSED}
        wanted = [caused_match for i, caused_match in enumerate(caused) if i not in refused]
        if not wanted:
            return []
        waiting: dict[str, list[str]] = {}
        for match, _ in wanted:
            if match.agent_id is None and match.rule.spec.target == "agent" and match.contact_id:
                waiting.setdefault(match.contact_id, []).append(match.alert_id)
        # noted before the alerts are stored, so that an agent that becomes known meanwhile finds them
        if waiting:
            await self.waiting.change_many([Item(contact_id, decide_note_waiting(ids))
                                            for contact_id, ids in waiting.items()])

        async def aim(first: int) -> list[Alert]:
            alerts = [alert_of(m, first + i) for i, (m, _) in enumerate(wanted)]
            items = [Item(m.alert_id, decide_raise(alert, raised_envelope(m, cause, alert)))
                     for (m, cause), alert in zip(wanted, alerts, strict=True)]
            return [o.stored.state for o in await self.alerts.change_many(items) if o.stored is not None]

        raised = await self.stream.take(aim)
        known = await self.contacts.store.get_many(list(waiting)) if waiting else {}
        for contact_id, contact in known.items():  # the agent may have become known meanwhile (another replica)
            if contact.state.agent_id is not None:
                await self.assign_waiting_alerts(contact_id, contact.state.agent_id)
        return raised

    async def wait_for_absences(self, matches: list[Match], trigger: Envelope) -> None:
        """Absence rules: store each match as pending until its due time (once per trigger and rule)."""
        aggregate = aggregate_of(trigger.data.key(), trigger.correlation_id) or trigger.id
        await self.absences.change_many([Item(m.alert_id, decide_pend(absence_of(m, aggregate))) for m in matches])
        self._absence_added.set()  # the due job plans again: this one may be due before what it waits for

    async def cancel_absences(self, envelope: Envelope) -> int:
        """An ``unless`` event cancels the pending absences of its aggregate that wait for it."""
        aggregate = aggregate_of(envelope.data.key(), envelope.correlation_id)
        pending = await self.absence_queries.pending_for(aggregate) if aggregate else []
        if not pending:
            return 0
        decide = decide_cancel(envelope.type, envelope.id, envelope.time)
        return sum(o.changed for o in await self.absences.change_many([Item(i, decide) for i in pending]))

    async def raise_absences_when_due(self) -> int:
        """The absences-due job's round: wait until the earliest pending due time, then raise what is due.
        A new pending absence of this process wakes it at once to plan again; one stored by another replica
        is seen within ``absence_check_interval_s`` (the longest wait)."""
        self._absence_added.clear()
        next_due = await self.absence_queries.next_due()
        longest = self.settings.absence_check_interval_s
        wait = longest if next_due is None else min(longest, (next_due - self.clock()).total_seconds())
        if wait > 0:
            try:
                await asyncio.wait_for(self._absence_added.wait(), wait)
                return 0  # woken by a new absence: plan again
            except TimeoutError:
                pass
        return await self.raise_due_absences()

    async def raise_due_absences(self) -> int:
        """The job: raise the absences that are due, each exactly once however many replicas run it."""
        now, raised = self.clock(), 0
        for absence_id in await self.absence_queries.due(now):
            fired = (await self.absences.change(absence_id, decide_fire(now))).stored
            if fired is None or fired.state.status != FIRING:
                continue  # cancelled or raised meanwhile
            rule = self.cache.book.by_id.get(fired.state.rule_id)
            if rule is not None:  # a rule deleted or disabled meanwhile raises nothing
                absence = fired.state
                cause = (absence.aggregate, absence.trigger_event_id)
                raised += len(await self.raise_alerts([match_of(absence, rule)], cause))
            await self.absences.change(absence_id, decide_raised)
        return raised

    async def assign_waiting_alerts(self, contact_id: str, agent_id: str) -> int:
        """Give the contact's open, agent-less agent alerts to ``agent_id``, each at a new stream position, so
        that they appear once on the agent's stream. Idempotent; an alert given before that has not reached
        the stream yet (a handler that stopped short) is put on it now."""
        noted = await self.waiting.get(contact_id)
        if noted is None or not noted.state:
            return 0
        found = await self.alert_queries.many(list(noted.state))
        waiting = sorted((a for a in found if a.waits_for_agent and a.status == "open" and a.contact_id == contact_id),
                         key=lambda a: a.position)
        given = [a for a in found if a.agent_id == agent_id and a.contact_id == contact_id and a.former_positions]
        if not waiting and not given:
            return 0

        async def aim(first: int) -> list[Alert]:
            items = [Item(a.alert_id, decide_assign(agent_id, first + i)) for i, a in enumerate(waiting)]
            outcomes = await self.alerts.change_many(items)
            return [o.stored.state for o in outcomes if o.changed and o.stored is not None] + given

        return len(await self.stream.take(aim)) - len(given)

    # ---- rules ------------------------------------------------------------------------------------
    async def create_rule(self, spec: RuleSpec, *, by: str) -> RuleRecord:
        rule = Rule(f"rule-{uuid.uuid4().hex[:12]}", 1, spec)
        outcome = await self.rules.change(rule.rule_id, decide_create(rule, by=by, now=self.clock()))
        return await self._rules_changed(outcome.stored)

    async def replace_rule(self, rule_id: str, spec: RuleSpec, *, by: str) -> RuleRecord:
        outcome = await self.rules.change(rule_id, decide_replace(rule_id, spec, by=by, now=self.clock()))
        return await self._rules_changed(outcome.stored)

    async def delete_rule(self, rule_id: str, *, by: str = "") -> None:
        await self._rules_changed((await self.rules.change(rule_id, decide_delete(rule_id, by=by, now=self.clock()))).stored)

    async def _rules_changed(self, stored: Any) -> RuleRecord:
        # one hot document for every rule change: concurrent changes of this replica move it in one write
        await self.meta.change_together("rules_revision", decide_bump)
        await self.cache.refresh()
        return stored.state  # type: ignore[no-any-return]

    async def seed_standard_rules(self) -> None:
        """Each standard rule once per database (also one added by a later version); a deleted one stays."""
        seeded = await self.meta.get("seeded")
        done = seeded.state.ids if seeded is not None else ()
        created = False
        for rule in STANDARD_RULES:
            if rule.rule_id not in done:
                outcome = await self.rules.change(rule.rule_id, decide_create(rule, by="system", now=self.clock()))
                created = created or outcome.changed
        await self.meta.change("seeded", decide_seed(tuple(r.rule_id for r in STANDARD_RULES)))
        if created:
            await self.meta.change("rules_revision", decide_bump)
        await self.cache.refresh(force=True)

    async def backtest(self, spec: RuleSpec, *, start: datetime, end: datetime) -> BacktestResult:
        """What ``spec`` would have raised for the kept events between ``start`` and ``end``; raises nothing."""
        compiled = compile_rule(Rule("draft", 0, spec))
        deadline = time.monotonic() + self.settings.backtest_time_limit_s
        # an absence rule's triggers up to ``end`` are decided by the events up to their due times
        until = min(end + timedelta(seconds=spec.after.within_s), self.clock()) if spec.after is not None else end
        observations = []
        async for obs in self.event_log.kept(until=max(until, end), limit=self.settings.backtest_max_events):
            observations.append(obs)
            if len(observations) % 1024 == 0 and time.monotonic() >= deadline:
                break
        async with self._backtests:  # the replay is CPU-bound: off the event loop, a few at a time
            return await asyncio.to_thread(run_backtest, compiled, observations, start=start, end=end,
                                           deadline=deadline, decided_until=until)

    async def facts_now(self, account_id: str) -> dict[str, Any]:
        state = await self.accounts.get(account_id)
        if state is None:
            raise FactsNotFound(account_id)
        return derive_facts(state, self.clock())

    async def rule(self, rule_id: str, *, history: bool = False) -> RuleRecord:
        record = await self.rule_queries.get(rule_id, history=history)
        if record is None:
            raise RuleNotFound(rule_id)
        return record

    # ---- alerts -----------------------------------------------------------------------------------
    async def acknowledge(self, alert_id: str, *, by: str) -> Alert:
        outcome = await self.alerts.change(alert_id, decide_acknowledge(alert_id, by=by, now=self.clock(),
                                                                        event=acknowledged_envelope))
        assert outcome.stored is not None
        return outcome.stored.state
