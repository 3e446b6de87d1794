"""The alerts service's own events: an alert raised (caused by its trigger event, or for an absence by the
time) and an alert acknowledged, with ids derived from the alert so a retry publishes the same event."""

from __future__ import annotations

from typing import Any

from icsuite_contracts.alerts_v1 import AlertAcknowledged, AlertRaised
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope

from .domain.alerts import Alert, alert_of
from .domain.evaluation import Match

SOURCE = "/alerts"


def alert_fields(match: Match) -> dict[str, Any]:
    alert = alert_of(match, 0)
    return {k: v for k, v in alert.public().items() if k in AlertRaised.model_fields}


def raised_envelope(match: Match, cause: Envelope | tuple[str, str]) -> Envelope:
    """The alert's event, caused by its trigger event (or, for an absence, by the time: ``(aggregate, trigger id)``)."""
    event = AlertRaised(**alert_fields(match))
    correlation, causation = (cause.correlation_id, cause.id) if isinstance(cause, Envelope) else cause
    return new_envelope(event, source=SOURCE, id=derive_event_id(match.alert_id, "raised"),
                        correlation_id=correlation or match.contact_id or causation, causation_id=causation)


def acknowledged_envelope(alert: Alert) -> Envelope:
    event = AlertAcknowledged(alert_id=alert.alert_id, rule_id=alert.rule_id, account_id=alert.account_id,
                              agent_id=alert.acknowledged_by, acknowledged_at=alert.acknowledged_at)
    return new_envelope(event, source=SOURCE, id=derive_event_id(alert.alert_id, "acknowledged"),
                        correlation_id=alert.contact_id or alert.alert_id, causation_id=alert.alert_id)
