"""The work item of a callback, its statuses, who acts on it, and the errors the domain decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Status = Literal["scheduled", "queued", "claimed", "in_progress", "completed", "failed", "expired", "cancelled"]
OPEN_STATUSES: tuple[Status, ...] = ("scheduled", "queued", "claimed", "in_progress")
CLOSED_STATUSES: tuple[Status, ...] = ("completed", "failed", "expired", "cancelled")
EXPIRABLE_STATUSES: tuple[Status, ...] = ("scheduled", "queued", "claimed")
Identification = Literal["provided", "pending", "identified", "unidentified"]
DialChoice = Literal["requested", "account"]


class CallbackError(Exception):
    """A decision of the domain that the caller must hear about."""


class InvalidRequest(CallbackError):
    """The request breaks a business rule (number, window, time zone)."""


class TooManyOpenRequests(CallbackError):
    """The callback number already has the maximum number of open requests."""


class NotOwner(CallbackError):
    """The actor may not act on an item owned by someone else."""


class WrongState(CallbackError):
    """The item is not in a state that allows the action."""


@dataclass(frozen=True)
class Actor:
    """Who asks: the token's subject and what its roles allow."""

    id: str
    supervisor: bool = False  # supervisor or admin: may act on any item
    channel: bool = False     # a channel (web site, IVR) acting for the customer


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


@dataclass(frozen=True)
class PendingClaim:
    """A claim whose event is not in the outbox yet (claim-next writes the event in a second step)."""

    event_id: str
    agent_id: str
    at: datetime


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
    version: int = 0
    pending_claim: PendingClaim | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def awaiting_identification(self) -> bool:
        return self.identification == "pending"
