"""An alert, its place on the alert stream, and the de-duplication window a raise claims.

Three kinds of document, each changed only by these pure decisions (through the store):

- **the alert** (``alerts``): created once per trigger event and rule (its id is derived from both), with
  its ``ic.alert.raised.v1``; acknowledged once; given its agent once when the contact's agent becomes
  known. ``position`` is the stream position it holds (or is about to take).
- **a stream entry** (``alert_stream``, ``_id`` = the position): taken by one insert, so positions are
  handed out without gaps (see :mod:`icsuite_alerts.stream`); it keeps the alert as it was delivered.
- **a de-duplication claim** (``alert_dedupe``, ``_id`` = rule, account and contact): one document per
  key, taken by one insert; it says which alert raised last and until when the document matters
  (``expires_at``, a TTL index removes it after that). Only rules with a window claim one
  (:func:`claims_window`): a rule whose window is 0 s de-duplicates by the alert's own id, which the
  alert document already holds once per trigger event and rule.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from icsuite_chassis.store import Change, Outcome, Stored
from icsuite_contracts.cloudevents import Envelope

from .errors import AlertNotFound, AlertNotOpen
from .evaluation import DedupeRecord, Match, dedupe_allows


@dataclass(frozen=True)
class Alert:
    alert_id: str
    rule_id: str
    rule_version: int
    severity: str
    message: str
    account_id: str | None
    contact_id: str | None
    agent_id: str | None
    target: str
    raised_at: datetime
    trigger_event_id: str | None
    trigger_type: str | None
    position: int
    status: str = "open"
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    former_positions: tuple[int, ...] = ()

    @property
    def waits_for_agent(self) -> bool:
        """An agent alert of a contact whose agent is not known yet."""
        return self.agent_id is None and self.target == "agent" and self.contact_id is not None

    def public(self) -> dict[str, Any]:
        """The alert as the gateway and the stream show it."""
        fields = {k: v for k, v in self.__dict__.items() if k != "former_positions"}
        return fields


def alert_of(match: Match, position: int) -> Alert:
    rule = match.rule
    return Alert(match.alert_id, rule.rule_id, rule.version, rule.spec.severity, match.message, match.account_id,
                 match.contact_id, match.agent_id, rule.spec.target, match.raised_at, match.trigger_event_id,
                 match.trigger_type, position)


def decide_raise(alert: Alert, raised: Envelope):  # type: ignore[no-untyped-def]
    """Create the alert with its event; a redelivered trigger finds it and changes nothing."""

    def decide(current: Stored[Alert] | None) -> Change[Alert] | None:
        return Change(alert, [raised]) if current is None else None

    return decide


def decide_acknowledge(alert_id: str, *, by: str, now: datetime, event: Any):  # type: ignore[no-untyped-def]
    """``event(alert)`` builds the ``ic.alert.acknowledged.v1`` envelope of the acknowledged alert."""

    def decide(current: Stored[Alert] | None) -> Change[Alert]:
        if current is None:
            raise AlertNotFound(alert_id)
        if current.state.status != "open":
            raise AlertNotOpen(alert_id)
        acknowledged = replace(current.state, status="acknowledged", acknowledged_at=now, acknowledged_by=by)
        return Change(acknowledged, [event(acknowledged)])

    return decide


def decide_assign(agent_id: str, position: int):  # type: ignore[no-untyped-def]
    """Give a waiting alert its agent and a new stream position (once: only while it has no agent)."""

    def decide(current: Stored[Alert] | None) -> Change[Alert] | None:
        if current is None or not current.state.waits_for_agent or current.state.status != "open":
            return None
        alert = current.state
        return Change(replace(alert, agent_id=agent_id, position=position,
                              former_positions=(*alert.former_positions, alert.position)))

    return decide


def decide_move(expected: int, position: int):  # type: ignore[no-untyped-def]
    """Aim the alert at another position: the one it aimed at was taken by another alert."""

    def decide(current: Stored[Alert] | None) -> Change[Alert] | None:
        if current is None or current.state.position != expected:
            return None
        return Change(replace(current.state, position=position))

    return decide


def decide_note_waiting(alert_ids: list[str]):  # type: ignore[no-untyped-def]
    """Note a contact's agent alerts raised before its agent is known (``alert_waiting``, by contact)."""

    def decide(current: Stored[tuple[str, ...]] | None) -> Change[tuple[str, ...]] | None:
        known = current.state if current is not None else ()
        missing = tuple(alert_id for alert_id in alert_ids if alert_id not in known)
        return Change((*known, *missing)) if missing else None

    return decide


@dataclass(frozen=True)
class StreamEntry:
    """One position of the alert stream: the alert delivered there, as it was then."""

    alert_id: str | None
    alert: dict[str, Any]

    @property
    def base(self) -> bool:
        """The entry that only marks where the stream starts (no alert)."""
        return self.alert_id is None


def entry_of(alert: Alert, position: int) -> StreamEntry:
    return StreamEntry(alert.alert_id, {**alert.public(), "position": position})


def decide_take(entry: StreamEntry):  # type: ignore[no-untyped-def]
    """Take a free position; a position someone holds is never changed."""

    def decide(current: Stored[StreamEntry] | None) -> Change[StreamEntry] | None:
        return Change(entry) if current is None else None

    return decide


def decide_blank(current: Stored[StreamEntry] | None) -> Change[StreamEntry] | None:
    """The alert kept at a position goes (its alert was purged); the position stays taken, without an alert."""
    if current is None or current.state.base:
        return None
    return Change(StreamEntry(None, {}))


@dataclass(frozen=True)
class DedupeClaim:
    alert_id: str
    last_at: datetime
    expires_at: datetime


def claims_window(match: Match) -> bool:
    """Whether raising ``match`` claims its de-duplication window. A window of 0 s refuses no other alert
    (:func:`~.evaluation.dedupe_allows`), so the only de-duplication left is one alert per trigger event and
    rule: the alert's id, created once by :func:`decide_raise` (a redelivery or a racing replica finds it)."""
    return match.rule.spec.dedupe_window_s > 0


class Claim(enum.Enum):
    NEW = "new"  # the window was free: this alert raises
    AGAIN = "again"  # this same alert claimed it before (a redelivered trigger): complete the raise
    REFUSED = "refused"  # another alert of the rule raised inside the window


def decide_claim(match: Match, *, keep_s: float):  # type: ignore[no-untyped-def]
    """Take the rule's window for the match's account and contact, or find it taken.

    The document is kept ``keep_s`` after the window ends (for trigger events that arrive late).
    """

    def decide(current: Stored[DedupeClaim] | None) -> Change[DedupeClaim] | None:
        if current is not None:
            record = DedupeRecord(current.state.last_at, current.state.alert_id)
            if record.alert_id == match.alert_id or not dedupe_allows(record, match):
                return None
        window = timedelta(seconds=match.rule.spec.dedupe_window_s + keep_s)
        return Change(DedupeClaim(match.alert_id, match.raised_at, match.raised_at + window))

    return decide


def claim_of(outcome: Outcome[DedupeClaim], match: Match) -> Claim:
    if outcome.changed:
        return Claim.NEW
    held = outcome.stored
    return Claim.AGAIN if held is not None and held.state.alert_id == match.alert_id else Claim.REFUSED
