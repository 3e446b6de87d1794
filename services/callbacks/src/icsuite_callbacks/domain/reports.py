"""What a supervisor's report counts: the open items, the ones waiting, and the due or breached ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .model import OPEN_STATUSES, WorkItem

DUE_SOON = timedelta(minutes=30)
"""An open item due within this is "due soon" in the report; one whose due time passed is "breached"."""
OWNED_STATUSES = ("claimed", "in_progress")
"""An agent's open work among the callbacks: the items in her inbox."""


def open_items() -> dict[str, Any]:
    return {"status": {"$in": list(OPEN_STATUSES)}}


def due_before(moment: datetime) -> dict[str, Any]:
    """Open items due before ``moment`` (breached when ``moment`` is now)."""
    return {**open_items(), "due_at": {"$lt": moment}}


def waiting() -> dict[str, Any]:
    """Items in the general inbox, waiting for an agent."""
    return {"status": "queued"}


def owned() -> dict[str, Any]:
    return {"status": {"$in": list(OWNED_STATUSES)}, "owner": {"$ne": None}}


@dataclass(frozen=True)
class CallbackReport:
    """Open callbacks by status and queue, how many are breached or due soon, and the oldest waiting."""

    as_of: datetime
    counts: dict[tuple[str, str], int]
    breached: int
    due_soon: int
    oldest_waiting: WorkItem | None


@dataclass(frozen=True)
class AgentCallbacks:
    agent_id: str
    claimed: int
    in_progress: int
