"""The work item of a callback, its statuses, who acts on it, and the rule of what is workable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from icsuite_chassis.store.matching import matches

from .hours import BusinessHours

Status = Literal["scheduled", "queued", "claimed", "in_progress", "completed", "failed", "expired", "cancelled"]
OPEN_STATUSES: tuple[Status, ...] = ("scheduled", "queued", "claimed", "in_progress")
CLOSED_STATUSES: tuple[Status, ...] = ("completed", "failed", "expired", "cancelled")
EXPIRABLE_STATUSES: tuple[Status, ...] = ("scheduled", "queued", "claimed")
Identification = Literal["provided", "pending", "identified", "unidentified"]
DialChoice = Literal["requested", "account"]


@dataclass(frozen=True)
class Actor:
    """Who asks: the token's subject and what its roles allow."""

    id: str
    supervisor: bool = False  # supervisor or admin: may act on any item
    channel: bool = False     # a channel (web site, IVR) acting for the customer
    skills: frozenset[str] = frozenset()     # the token's skills claim (none without it)
    languages: frozenset[str] = frozenset()  # the token's languages claim (BCP 47 tags)


@dataclass(frozen=True)
class Routing:
    """What the reason profile decided for the item (a copy: later profile edits do not change it)."""

    profile: str
    task_type: str
    priority: int
    queue: str
    skill: str | None
    sla_minutes: int
    max_attempts: int
    retry_delay_s: float
    agent_language: str | None = None       # the profile's language: the primary language the agent must speak
    business_hours: BusinessHours | None = None  # the profile's: workable only from an opening on


@dataclass(frozen=True)
class WorkItem:
    callback_id: str
    request_id: str
    callback_number: str
    channel: str
    time_zone: str
    language: str
    routing: Routing
    status: Status
    visible_from: datetime
    due_at: datetime
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    account_id: str | None = None
    account_number: str | None = None
    identification: Identification = "provided"
    identify_until: datetime | None = None
    candidates: tuple[str, ...] = ()
    reason_code: str | None = None
    preferred_from: datetime | None = None
    preferred_to: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    owner: str | None = None
    attempts: int = 0
    last_failure: str | None = None
    outcome: str | None = None
    closed_by: str | None = None
    close_reason: str | None = None
    dial_number: str | None = None          # the number of the latest attempt
    dial_source: DialChoice | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def awaiting_identification(self) -> bool:
        return self.identification == "pending"


# --- what is workable: the one statement of the rule -------------------------------------------------------

def window_open(now: datetime) -> dict[str, Any]:
    """The item's window is open at ``now``: its start (or retry delay) reached, its end not yet."""
    return {"visible_from": {"$lte": now}, "expires_at": {"$gt": now}}


def workable(now: datetime) -> dict[str, Any]:
    """"Queued and window open": what the general inbox shows and claim-next offers, as a condition on the
    item's fields. The repository hands it to the store as the filter of claim-next and of the inbox; the
    domain's own decisions evaluate the same condition with :func:`holds`."""
    return {"status": "queued", **window_open(now)}


def holds(item: WorkItem, condition: dict[str, Any]) -> bool:
    """Whether ``item`` meets a condition of this module (on its stored field names)."""
    return matches(_rule_fields(item), condition)


def _rule_fields(item: WorkItem) -> dict[str, Any]:
    return {"status": item.status, "visible_from": item.visible_from, "expires_at": item.expires_at,
            "owner": item.owner, "skill": item.routing.skill, "agent_language": item.routing.agent_language}
