"""Evaluation: compiled rules indexed by trigger type; one event and the account's facts in, matches out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from icsuite_contracts.cloudevents import derive_event_id

from .expressions import BudgetExceeded
from .rule_index import GuardIndex
from .rules import CompiledRule, Rule, RuleInvalid, compile_rule

NO_CONTACT = "-"


@dataclass(frozen=True)
class Match:
    """A rule whose condition held: the alert it would raise."""

    alert_id: str
    rule: Rule
    message: str
    account_id: str | None
    contact_id: str | None
    agent_id: str | None
    raised_at: datetime
    trigger_event_id: str
    trigger_type: str
    aggregate: str | None = None  # an absence rule's aggregate: its alerts are de-duplicated per aggregate

    @property
    def dedupe_key(self) -> str:
        key = dedupe_key(self.rule.rule_id, self.account_id, self.contact_id)
        return key if self.aggregate is None else f"{key}\x1f{self.aggregate}"


def dedupe_key(rule_id: str, account_id: str | None, contact_id: str | None) -> str:
    return "\x1f".join((rule_id, account_id or NO_CONTACT, contact_id or NO_CONTACT))


def alert_id_for(trigger_event_id: str, rule_id: str) -> str:
    """One alert at most per trigger event and rule, with the same id on every redelivery."""
    return derive_event_id(trigger_event_id, f"alert:{rule_id}")


class RuleBook:
    """The enabled rules, compiled once and indexed by trigger type, and per trigger type by their guards
    (``rule_index.py``). A change of any rule builds a new book (``rulecache.py``), so the index is never
    stale."""

    def __init__(self, rules: Iterable[Rule], revision: int = 0):
        self.revision = revision
        self.by_trigger: dict[str, list[CompiledRule]] = {}
        self.broken: dict[str, str] = {}
        self.count = 0
        self.unless: dict[str, list[Rule]] = {}  # event type -> the absence rules it cancels
        self.by_id: dict[str, Rule] = {}
        for rule in rules:
            if not rule.spec.enabled:
                continue
            try:
                compiled = compile_rule(rule)
            except RuleInvalid as exc:  # stored before a stricter check; never stops evaluation
                self.broken[rule.rule_id] = str(exc)
                continue
            self.count += 1
            self.by_id[rule.rule_id] = rule
            for cancelling in (rule.spec.after.unless if rule.spec.after is not None else ()):
                self.unless.setdefault(cancelling, []).append(rule)
            for trigger in dict.fromkeys(rule.spec.triggers):
                self.by_trigger.setdefault(trigger, []).append(compiled)
        self.indexes = {trigger: GuardIndex(rules) for trigger, rules in self.by_trigger.items()}

    def rules_for(self, ce_type: str) -> list[CompiledRule]:
        return self.by_trigger.get(ce_type, [])

    def candidates(self, ce_type: str, event: dict[str, Any], facts: dict[str, Any]) -> list[CompiledRule]:
        """The rules of ``ce_type`` that may match ``event`` with ``facts``: evaluating only these gives the
        same matches and rule errors as evaluating :meth:`rules_for` (the others' guards are false)."""
        index = self.indexes.get(ce_type)
        return index.candidates(event, facts) if index is not None else []


@dataclass(frozen=True)
class RuleFailure:
    """A rule whose condition could not be evaluated for an event: over the budget or out of memory."""

    rule_id: str
    rule_version: int
    kind: str  # "budget" or "memory"
    message: str
    event_id: str


def evaluate(rules: Iterable[CompiledRule], *, event: dict[str, Any], facts: dict[str, Any], event_id: str,
             event_type: str, time: datetime, account_id: str | None, contact_id: str | None,
             agent_id: str | None, failures: list[RuleFailure] | None = None) -> list[Match]:
    """The rules whose condition holds. A rule that goes over the budget (or runs out of memory) matches
    nothing and is noted in ``failures``; the other rules are evaluated as usual."""
    activation = {"event": event, "facts": facts}
    matches = []
    for compiled in rules:
        try:
            matched = compiled.condition.matches(activation)
        except (BudgetExceeded, MemoryError) as exc:
            if failures is not None:
                failures.append(_failure(compiled.rule, exc, event_id))
            continue
        if matched:
            rule = compiled.rule
            matches.append(Match(alert_id_for(event_id, rule.rule_id), rule, compiled.template.render(activation),
                                 account_id, contact_id, agent_id, time, event_id, event_type))
    return matches


def _failure(rule: Rule, exc: BaseException, event_id: str) -> RuleFailure:
    if isinstance(exc, MemoryError):
        return RuleFailure(rule.rule_id, rule.version, "memory", "the condition ran out of memory", event_id)
    return RuleFailure(rule.rule_id, rule.version, "budget", str(exc), event_id)


@dataclass
class DedupeRecord:
    last_at: datetime
    alert_id: str


def dedupe_allows(record: DedupeRecord | None, match: Match) -> bool:
    """Raise unless the same rule raised for the same account and contact inside its window.

    The same alert (a redelivered trigger) is always allowed, so that an interrupted raise completes. A
    window of 0 s allows every alert (one per trigger event and rule: the alert's own id), also one whose
    trigger is older than the last raise's.
    """
    if record is None or record.alert_id == match.alert_id or match.rule.spec.dedupe_window_s == 0:
        return True
    return record.last_at <= match.raised_at - timedelta(seconds=match.rule.spec.dedupe_window_s)
