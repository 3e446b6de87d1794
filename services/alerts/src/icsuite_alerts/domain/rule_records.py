"""A stored rule (with its saved versions) and the decisions that change it; the rules revision counter."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from icsuite_chassis.store import Change, Stored

from .errors import RuleNotFound
from .rules import Rule, RuleSpec, compile_rule

HISTORY_KEEP = 100


@dataclass(frozen=True)
class RuleRecord:
    """A rule as stored: its current version, who saved it, the last ``HISTORY_KEEP`` versions.

    A deleted rule stays as a tombstone (``deleted``), so a standard rule an administrator deleted is
    never seeded again and a late write cannot bring a rule back.
    """

    rule: Rule
    created_at: datetime
    updated_at: datetime
    updated_by: str
    history: tuple[dict[str, Any], ...] = ()
    deleted: bool = False


def history_entry(rule: Rule, *, by: str, now: datetime) -> dict[str, Any]:
    return {"version": rule.version, **spec_fields(rule.spec), "saved_at": now, "saved_by": by}


def spec_fields(spec: RuleSpec) -> dict[str, Any]:
    return {"name": spec.name, "triggers": list(spec.triggers), "condition": spec.condition,
            "severity": spec.severity, "message": spec.message, "target": spec.target,
            "dedupe_window_s": spec.dedupe_window_s, "enabled": spec.enabled,
            "after": None if spec.after is None else {"within_s": spec.after.within_s, "unless": list(spec.after.unless)}}


def decide_create(rule: Rule, *, by: str, now: datetime):  # type: ignore[no-untyped-def]
    """Store a new rule (compiled first: an invalid one is refused); nothing when the id exists."""
    compile_rule(rule)

    def decide(current: Stored[RuleRecord] | None) -> Change[RuleRecord] | None:
        if current is not None:
            return None
        return Change(RuleRecord(rule, now, now, by, (history_entry(rule, by=by, now=now),)))

    return decide


def decide_replace(rule_id: str, spec: RuleSpec, *, by: str, now: datetime):  # type: ignore[no-untyped-def]
    """Save ``spec`` as the rule's next version."""

    def decide(current: Stored[RuleRecord] | None) -> Change[RuleRecord] | None:
        if current is None or current.state.deleted:
            raise RuleNotFound(rule_id)
        record = current.state
        rule = Rule(rule_id, record.rule.version + 1, spec, record.rule.standard)
        compile_rule(rule)
        history = (*record.history, history_entry(rule, by=by, now=now))[-HISTORY_KEEP:]
        return Change(replace(record, rule=rule, updated_at=now, updated_by=by, history=history))

    return decide


def decide_delete(rule_id: str, *, by: str, now: datetime):  # type: ignore[no-untyped-def]
    def decide(current: Stored[RuleRecord] | None) -> Change[RuleRecord] | None:
        if current is None or current.state.deleted:
            raise RuleNotFound(rule_id)
        return Change(replace(current.state, deleted=True, updated_at=now, updated_by=by))

    return decide


@dataclass(frozen=True)
class Marker:
    """A small document of the ``meta`` collection: a counter and the ids it has seen."""

    value: int = 0
    ids: tuple[str, ...] = ()


def decide_bump(current: Stored[Marker] | None) -> Change[Marker]:
    """The rules revision moves by one (each replica reloads its rules when it sees it move)."""
    marker = current.state if current is not None else Marker()
    return Change(replace(marker, value=marker.value + 1))


def decide_seed(rule_ids: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """Note the standard rules not seeded yet (each is seeded once per database, even if deleted later)."""

    def decide(current: Stored[Marker] | None) -> Change[Marker] | None:
        marker = current.state if current is not None else Marker()
        missing = tuple(rule_id for rule_id in rule_ids if rule_id not in marker.ids)
        return Change(replace(marker, ids=(*marker.ids, *missing))) if missing else None

    return decide
