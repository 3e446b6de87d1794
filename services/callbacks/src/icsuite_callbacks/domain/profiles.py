"""Reason profiles: a callback reason gives task type, priority, SLA, target queue, the skill and language an
agent needs, attempts, retry delay (and business hours)."""

from __future__ import annotations

from dataclasses import dataclass

from .hours import BusinessHours
from .model import Routing
from .routing import language_code

DEFAULT_PROFILE = "default"
"""The reserved reason code of the profile used when the reason is missing or unknown."""


@dataclass(frozen=True)
class ReasonProfile:
    reason_code: str
    task_type: str
    priority: int
    sla_minutes: int
    queue: str
    skill: str | None
    max_attempts: int
    retry_delay_s: float
    description: str | None = None
    language: str | None = None   # a BCP 47 tag: the agent must speak its primary language
    business_hours: BusinessHours | None = None   # requests wait (scheduled) for the next opening

    def routing(self) -> Routing:
        return Routing(profile=self.reason_code, task_type=self.task_type, priority=self.priority,
                       queue=self.queue, skill=self.skill, sla_minutes=self.sla_minutes,
                       max_attempts=self.max_attempts, retry_delay_s=self.retry_delay_s,
                       agent_language=language_code(self.language) if self.language else None,
                       business_hours=self.business_hours)


SEED_PROFILES: tuple[ReasonProfile, ...] = (
    ReasonProfile(DEFAULT_PROFILE, "callback", 1, 480, "general", None, 3, 900.0,
                  "used when the reason is missing or unknown"),
    ReasonProfile("billing_question", "billing_callback", 3, 240, "general", "billing", 3, 900.0,
                  "questions about a bill or a payment"),
    ReasonProfile("payment_arrangement", "collections_callback", 5, 120, "collections", "collections", 3, 600.0,
                  "instalment plans and payment deferrals"),
    ReasonProfile("move_in_out", "move_callback", 2, 1440, "general", "moves", 3, 1800.0,
                  "moving in or out, meter readings at the move"),
    ReasonProfile("outage", "technical_callback", 8, 60, "technical", "grid", 5, 300.0,
                  "supply interruptions and faults"),
)


def choose_profile(reason_code: str | None, found: ReasonProfile | None,
                   default: ReasonProfile | None) -> ReasonProfile:
    """The profile that routes a reason: its own when one exists, else the default profile."""
    if reason_code and found is not None and found.reason_code == reason_code:
        return found
    return default if default is not None else SEED_PROFILES[0]
