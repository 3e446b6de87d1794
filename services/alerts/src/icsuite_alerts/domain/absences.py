"""Absence rules: an alert raised ``within_s`` after its trigger unless an ``unless`` event of the same
aggregate (the Kafka key, or ``ce_correlationid``) came first.

A matched trigger stores a pending absence (``alert_absences``, ``_id`` = the alert it may raise) with its
due time. An ``unless`` event of the aggregate cancels it; when it is due, one replica moves it to
``firing`` (a store change: of several replicas exactly one makes it) and the alert is raised as any
other, idempotently (its id is the absence's), then the absence is ``raised``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from icsuite_chassis.store import Change, Stored

from .evaluation import Match

PENDING, FIRING, RAISED, CANCELLED = "pending", "firing", "raised", "cancelled"


@dataclass(frozen=True)
class PendingAbsence:
    alert_id: str
    rule_id: str
    aggregate: str
    unless: tuple[str, ...]
    due_at: datetime
    message: str
    account_id: str | None
    contact_id: str | None
    agent_id: str | None
    trigger_event_id: str
    trigger_type: str
    status: str = PENDING
    cancelled_by: str | None = None


def aggregate_of(key: str | None, correlation_id: str | None) -> str | None:
    return key or correlation_id


def absence_of(match: Match, aggregate: str) -> PendingAbsence:
    after = match.rule.spec.after
    assert after is not None
    return PendingAbsence(match.alert_id, match.rule.rule_id, aggregate, after.unless,
                          match.raised_at + timedelta(seconds=after.within_s), match.message, match.account_id,
                          match.contact_id, match.agent_id, match.trigger_event_id, match.trigger_type)


def decide_pend(absence: PendingAbsence):  # type: ignore[no-untyped-def]
    def decide(current: Stored[PendingAbsence] | None) -> Change[PendingAbsence] | None:
        return Change(absence) if current is None else None

    return decide


def decide_cancel(event_type: str, event_id: str, at: datetime):  # type: ignore[no-untyped-def]
    """An ``unless`` event that happened before the absence was due cancels it (only while pending)."""

    def decide(current: Stored[PendingAbsence] | None) -> Change[PendingAbsence] | None:
        if current is None or current.state.status != PENDING or event_type not in current.state.unless:
            return None
        if at > current.state.due_at:
            return None
        return Change(replace(current.state, status=CANCELLED, cancelled_by=event_id))

    return decide


def decide_fire(now: datetime):  # type: ignore[no-untyped-def]
    def decide(current: Stored[PendingAbsence] | None) -> Change[PendingAbsence] | None:
        if current is None or current.state.status != PENDING or current.state.due_at > now:
            return None
        return Change(replace(current.state, status=FIRING))

    return decide


def decide_raised(current: Stored[PendingAbsence] | None) -> Change[PendingAbsence] | None:
    if current is None or current.state.status != FIRING:
        return None
    return Change(replace(current.state, status=RAISED))


def match_of(absence: PendingAbsence, rule: object) -> Match:
    """The alert a due absence raises (raised at its due time, for the rule as it is now)."""
    return Match(absence.alert_id, rule, absence.message, absence.account_id, absence.contact_id,  # type: ignore[arg-type]
                 absence.agent_id, absence.due_at, absence.trigger_event_id, absence.trigger_type, absence.aggregate)
