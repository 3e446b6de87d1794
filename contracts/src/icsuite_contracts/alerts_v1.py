"""Topic ``ic.alerts.v1``: alerts raised by the alert rules, keyed by ``account_id`` (else ``alert_id``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import Count, Event, Id, Text, Timestamp
from .personal import PERSONAL

TOPIC = "ic.alerts.v1"

Severity = Literal["info", "warning", "critical"]
AlertTarget = Literal["agent", "supervisors"]


class _AlertEvent(Event):
    topic = TOPIC
    key_field = "account_id"

    alert_id: Id = Field(description="The alert.", examples=["al-9001"])
    rule_id: Id = Field(description="The rule that raised it.", examples=["rule-high-balance"])
    account_id: Id | None = Field(default=None, description="The account concerned, if any.", examples=["acc-100200"])

    def key(self) -> str:
        return self.account_id or self.alert_id


class AlertRaised(_AlertEvent):
    """A rule's condition held for an event and the account's facts, and an alert was raised."""

    ce_type = "ic.alert.raised.v1"

    rule_version: Count = Field(description="The version of the rule that matched.", examples=[3])
    severity: Severity = Field(description="How serious it is.", examples=["warning"])
    message: Annotated[Text, PERSONAL] = Field(
        description="The rendered message for the agent.", examples=["Open balance above 500 EUR: offer a payment plan."]
    )
    contact_id: Id | None = Field(default=None, description="The contact it concerns, if any.", examples=["ct-7f3a9"])
    agent_id: Id | None = Field(default=None, description="The agent it is for, if any.", examples=["a-17"])
    target: AlertTarget = Field(description="Who is to see it.", examples=["agent"])
    raised_at: Timestamp = Field(description="When it was raised.", examples=["2025-03-01T09:15:43+01:00"])
    trigger_event_id: Id | None = Field(
        default=None,
        description="The ce_id of the event that triggered it.",
        examples=["7d1c6f1e-2f43-4c8e-9a64-0b7f3f4f2a11"],
    )


class AlertAcknowledged(_AlertEvent):
    """An agent acknowledged an alert."""

    ce_type = "ic.alert.acknowledged.v1"

    agent_id: Id = Field(description="The agent who acknowledged it.", examples=["a-17"])
    acknowledged_at: Timestamp = Field(description="When.", examples=["2025-03-01T09:16:10+01:00"])


EVENT_TYPES = (AlertRaised, AlertAcknowledged)
