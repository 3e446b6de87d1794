"""The alerts service's own events: an alert raised (caused by its trigger event, or for an absence by the
time) and an alert acknowledged, with ids derived from the alert so a retry publishes the same event."""

from __future__ import annotations

from typing import Any

from icsuite_contracts.alerts_v1 import AlertAcknowledged, AlertRaised
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope

from .domain.alerts import Alert, alert_of
from .domain.evaluation import Match

SOURCE = "/alerts"


_RAISED_FIELDS = tuple(name for name in AlertRaised.model_fields if name in Alert.__dataclass_fields__)


def alert_fields(match: Match, alert: Alert | None = None) -> dict[str, Any]:
    """The fields of the ``ic.alert.raised.v1`` of ``match`` (from ``alert``, its alert, when it is built)."""
    alert = alert if alert is not None else alert_of(match, 0)
    return {name: getattr(alert, name) for name in _RAISED_FIELDS}


def raised_envelope(match: Match, cause: Envelope | tuple[str, str], alert: Alert | None = None) -> Envelope:
    """The alert's event, caused by its trigger event (or, for an absence, by the time: ``(aggregate, trigger id)``);
    ``alert``: the match's alert when the caller built it already (its position is not part of the event)."""
    event = AlertRaised(**alert_fields(match, alert))
    correlation, causation = (cause.correlation_id, cause.id) if isinstance(cause, Envelope) else cause
    return new_envelope(event, source=SOURCE, id=derive_event_id(match.alert_id, "raised"),
                        correlation_id=correlation or match.contact_id or causation, causation_id=causation)


def acknowledged_envelope(alert: Alert) -> Envelope:
    event = AlertAcknowledged(alert_id=alert.alert_id, rule_id=alert.rule_id, account_id=alert.account_id,
                              agent_id=alert.acknowledged_by, acknowledged_at=alert.acknowledged_at)
    return new_envelope(event, source=SOURCE, id=derive_event_id(alert.alert_id, "acknowledged"),
                        correlation_id=alert.contact_id or alert.alert_id, causation_id=alert.alert_id)
