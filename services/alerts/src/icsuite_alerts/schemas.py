"""Request and response bodies of the gateway (the names follow the contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from icsuite_contracts.base import Timestamp
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .domain.rule_records import RuleRecord, spec_fields
from .domain.rules import MAX_ABSENCE_S, MAX_DEDUPE_WINDOW_S, MAX_TRIGGERS, Absence, RuleSpec

TriggerType = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class AfterBody(BaseModel):
    """Wait for an absence: raise ``within_s`` after the trigger unless an ``unless`` event of the same
    aggregate (the Kafka key, or ``ce_correlationid``) came first."""

    model_config = ConfigDict(extra="forbid")

    within_s: int = Field(ge=1, le=MAX_ABSENCE_S, examples=[1800])
    unless: list[TriggerType] = Field(min_length=1, max_length=MAX_TRIGGERS, examples=[["ic.callback.claimed.v1"]])


class RuleBody(BaseModel):
    """A rule as an administrator writes it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Dunning level 2 or higher"])
    triggers: list[TriggerType] = Field(min_length=1, max_length=MAX_TRIGGERS,
                                        examples=[["ic.identity.contact-identified.v1"]])
    condition: str = Field(max_length=100_000, description="CEL over `event` and `facts`; must be a bool.",
                           examples=["facts.dunning_level >= 2"])
    severity: Literal["info", "warning", "critical"] = Field(examples=["warning"])
    message: str = Field(max_length=100_000, examples=["Dunning level {facts.dunning_level}"])
    target: Literal["agent", "supervisors"] = Field(default="agent", examples=["agent"])
    dedupe_window_s: int = Field(default=3600, ge=0, le=MAX_DEDUPE_WINDOW_S, examples=[3600])
    enabled: bool = True
    after: AfterBody | None = None

    def to_spec(self) -> RuleSpec:
        after = None if self.after is None else Absence(self.after.within_s, tuple(dict.fromkeys(self.after.unless)))
        return RuleSpec(name=self.name, triggers=tuple(self.triggers), condition=self.condition,
                        severity=self.severity, message=self.message, target=self.target,
                        dedupe_window_s=self.dedupe_window_s, enabled=self.enabled, after=after)


class RuleErrorOut(BaseModel):
    """The last failed evaluation of the rule seen by the replica that answers (over the budget, out of memory)."""

    kind: Literal["budget", "memory"]
    message: str
    rule_version: int
    event_id: str
    at: datetime
    count: int = Field(description="failed evaluations since this replica started")


class RuleOut(BaseModel):
    rule_id: str
    version: int
    name: str
    triggers: list[str]
    condition: str
    severity: str
    message: str
    target: str
    dedupe_window_s: int
    enabled: bool
    after: AfterBody | None = None
    standard: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    last_error: RuleErrorOut | None = None

    @classmethod
    def of(cls, record: RuleRecord, health: Any = None) -> RuleOut:
        rule = record.rule
        last_error = RuleErrorOut(**vars(health)) if health is not None else None
        return cls(rule_id=rule.rule_id, version=rule.version, **spec_fields(rule.spec), standard=rule.standard,
                   created_at=record.created_at, updated_at=record.updated_at, updated_by=record.updated_by,
                   last_error=last_error)


class AlertOut(BaseModel):
    alert_id: str
    position: int | None = None
    rule_id: str
    rule_version: int
    severity: str
    message: str
    account_id: str | None = None
    contact_id: str | None = None
    agent_id: str | None = None
    target: str
    status: Literal["open", "acknowledged"] | None = None
    raised_at: datetime
    trigger_event_id: str | None = None
    trigger_type: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None


class BacktestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    rule: RuleBody
    start: Timestamp = Field(alias="from", description="Start of the period (RFC 3339 with offset).")
    end: Timestamp = Field(alias="to", description="End of the period, inclusive.")


class BacktestOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    count: int
    alerts: list[AlertOut]
    events_replayed: int
    triggers_evaluated: int
    truncated: bool = False
    truncated_by: Literal["max_events", "time_limit"] | None = Field(
        default=None, description="why the replay stopped early: the event limit or the time limit")
    rule_errors: int = Field(default=0, description="evaluations of the draft that failed (over the budget)")
    rule_error: str | None = Field(default=None, description="the first such failure")
    absences_undecided: int = Field(default=0, description=(
        "an absence rule's matches whose due time lies after the kept events (not yet known to be raised)"))
