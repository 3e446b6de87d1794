"""Backtest: replay kept events through the same projections and one draft rule, raising nothing.

The replay starts from empty projections at the first kept event, so facts are what the kept events
tell; matches are reported only for trigger events inside the chosen period. An event erased for a data
subject (only its ids left, ``erased: true``) is counted as replayed but changes no account's facts and
triggers nothing: what it said is gone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .contacts import ContactState, apply_to_contact, resolve
from .erasure import holds_data
from .evaluation import DedupeRecord, Match, RuleFailure, dedupe_allows, evaluate
from .facts import AccountState, apply_to_account, derive_facts, empty_facts
from .observations import Observation
from .rules import CompiledRule


@dataclass
class Replay:
    """In-memory projections, fed one observation at a time in the order the events happened."""

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


def run_backtest(rule: CompiledRule, observations: Iterable[Observation], *, start: datetime, end: datetime,
                 deadline: float = math.inf, clock: Callable[[], float] = time.monotonic) -> BacktestResult:
    """Replay ``observations`` (CPU-bound: run it off the event loop); stops at ``deadline`` (``clock``'s
    time) with ``stopped="time_limit"`` and what it found so far."""
    replay = Replay()
    dedupe: dict[str, DedupeRecord] = {}
    result = BacktestResult([], 0, 0)
    triggers = set(rule.rule.spec.triggers)
    for obs in observations:
        if result.events_replayed % _CHECK_EVERY == 0 and clock() >= deadline:
            result.stopped = "time_limit"
            break
        result.events_replayed += 1
        account_id, agent_id, facts = replay.apply(obs)
        if obs.type not in triggers or not start <= obs.time <= end or not holds_data(obs):
            continue
        result.triggers_evaluated += 1
        for match in evaluate([rule], event=obs.activation_event(), facts=facts, event_id=obs.event_id,
                              event_type=obs.type, time=obs.time, account_id=account_id,
                              contact_id=obs.contact_id, agent_id=agent_id, failures=result.failures):
            if dedupe_allows(dedupe.get(match.dedupe_key), match):
                dedupe[match.dedupe_key] = DedupeRecord(match.raised_at, match.alert_id)
                result.matches.append(match)
    return result


_CHECK_EVERY = 64  # events between two looks at the clock (one evaluation is bounded by the budget)
