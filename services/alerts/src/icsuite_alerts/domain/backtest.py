"""Backtest: replay kept events through the same projections and one draft rule, raising nothing.

The replay starts from empty projections at the first kept event, so facts are what the kept events
tell; matches are reported only for trigger events inside the chosen period. An event erased for a data
subject (only its ids left, ``erased: true``) is counted as replayed but changes no account's facts and
triggers nothing: what it said is gone.

An absence rule (``after: {within_s, unless}``) is replayed as the live path runs it: a matched trigger
waits ``within_s`` from its time; an ``unless`` event of its aggregate (the Kafka key, else
``ce_correlationid``) at or before the due time cancels it; once the replay passes the due time it is
raised at its due time. One still waiting when the replay ends is raised only if its due time is at or before
``decided_until`` (what the caller knows no ``unless`` event came before): else it is undecided.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .absences import PendingAbsence, absence_of, aggregate_of, match_of
from .contacts import ContactState, apply_to_contact, resolve
from .erasure import holds_data
from .evaluation import DedupeRecord, Match, RuleFailure, dedupe_allows, evaluate
from .facts import AccountState, apply_to_account, derive_facts, empty_facts
from .observations import Observation
from .rules import CompiledRule, consumed_models


@dataclass
class Replay:
    """In-memory projections, fed one observation at a time in the order the service took the events in."""

    contacts: dict[str, ContactState] = field(default_factory=dict)
    accounts: dict[str, AccountState] = field(default_factory=dict)

    def apply(self, obs: Observation) -> tuple[str | None, str | None, dict]:  # type: ignore[type-arg]
        """Project ``obs``; answer its account, its agent and the account's facts right after it."""
        contact = self.contacts.get(obs.contact_id or "", ContactState())
        changed = apply_to_contact(contact, obs)
        if changed is not None and obs.contact_id:
            self.contacts[obs.contact_id] = contact = changed
        account_id, agent_id = resolve(obs, contact)
        if account_id is None:
            return None, agent_id, empty_facts()
        state = self.accounts.get(account_id, AccountState())
        new_state = apply_to_account(state, obs) if holds_data(obs) else None
        if new_state is not None:
            self.accounts[account_id] = state = new_state
        return account_id, agent_id, derive_facts(state, obs.time)


@dataclass
class BacktestResult:
    matches: list[Match]
    events_replayed: int
    triggers_evaluated: int
    failures: list[RuleFailure] = field(default_factory=list)
    stopped: str | None = None  # "time_limit" when the replay stopped at its deadline
    absences_undecided: int = 0  # absence matches still waiting when the replay ended


@dataclass
class Absences:
    """The draft absence rule's matches waiting for their due time during the replay."""

    waiting: list[PendingAbsence] = field(default_factory=list)

    def pend(self, match: Match, obs: Observation) -> None:
        self.waiting.append(absence_of(match, aggregate_of(_key_of(obs), obs.attributes.get("ce_correlationid"))
                                       or obs.event_id))

    def cancel(self, obs: Observation) -> None:
        aggregate = aggregate_of(_key_of(obs), obs.attributes.get("ce_correlationid"))
        self.waiting = [a for a in self.waiting
                        if not (a.aggregate == aggregate and obs.type in a.unless and obs.time <= a.due_at)]

    def due(self, before: datetime, *, inclusive: bool = False) -> list[PendingAbsence]:
        """Take the absences due before ``before`` (or at it, ``inclusive``), in due order."""
        due = sorted((a for a in self.waiting if a.due_at < before or inclusive and a.due_at == before),
                     key=lambda a: a.due_at)
        self.waiting = [a for a in self.waiting if a not in due]
        return due


@functools.cache
def _models() -> dict[str, type]:
    return consumed_models()


def _key_of(obs: Observation) -> str | None:
    """The event's Kafka key, as its model gives it; None for an event it cannot be read back from (erased)."""
    model = _models().get(obs.type)
    try:
        return model.model_validate(obs.data).key() if model is not None else None
    except ValueError:
        return None


def run_backtest(rule: CompiledRule, observations: Iterable[Observation], *, start: datetime, end: datetime,
                 deadline: float = math.inf, clock: Callable[[], float] = time.monotonic,
                 decided_until: datetime | None = None) -> BacktestResult:
    """Replay ``observations`` (CPU-bound: run it off the event loop); stops at ``deadline`` (``clock``'s
    time) with ``stopped="time_limit"`` and what it found so far. ``decided_until``: see the module."""
    replay, absences = Replay(), Absences()
    dedupe: dict[str, DedupeRecord] = {}
    result = BacktestResult([], 0, 0)
    spec = rule.rule.spec
    triggers, unless = set(spec.triggers), set(spec.after.unless if spec.after is not None else ())

    def found(match: Match) -> None:
        if dedupe_allows(dedupe.get(match.dedupe_key), match):
            dedupe[match.dedupe_key] = DedupeRecord(match.raised_at, match.alert_id)
            result.matches.append(match)

    for obs in observations:
        if result.events_replayed % _CHECK_EVERY == 0 and clock() >= deadline:
            result.stopped = "time_limit"
            break
        for absence in absences.due(obs.time):
            found(match_of(absence, rule.rule))
        result.events_replayed += 1
        account_id, agent_id, facts = replay.apply(obs)
        if obs.type in unless:
            absences.cancel(obs)
        if obs.type not in triggers or not start <= obs.time <= end or not holds_data(obs):
            continue
        result.triggers_evaluated += 1
        for match in evaluate([rule], event=obs.activation_event(), facts=facts, event_id=obs.event_id,
                              event_type=obs.type, time=obs.time, account_id=account_id,
                              contact_id=obs.contact_id, agent_id=agent_id, failures=result.failures):
            absences.pend(match, obs) if spec.after is not None else found(match)
    if result.stopped is None and decided_until is not None:
        for absence in absences.due(decided_until, inclusive=True):
            found(match_of(absence, rule.rule))
    result.absences_undecided = len(absences.waiting)
    return result


_CHECK_EVERY = 64  # events between two looks at the clock (one evaluation is bounded by the budget)
