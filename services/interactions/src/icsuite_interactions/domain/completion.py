"""Completing records: one with its outcome, or several of one account in one all-or-nothing update."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .record import CLOSED, contact_ended_at, duration_s

MAX_BULK = 100


@dataclass(frozen=True)
class Blocker:
    """A record that keeps a bulk completion from happening, and why."""

    interaction_id: str
    reason: str  # not_found, closed, other_account, being_completed, changed_concurrently

    def as_dict(self) -> dict[str, str]:
        return {"interaction_id": self.interaction_id, "reason": self.reason}


@dataclass(frozen=True)
class Completion:
    """What closing a record sets: the outcome, result and reason an agent chose (or self-service)."""

    outcome: str
    result: str | None
    reason_code: str | None
    closed_at: datetime
    closed_by: str | None


def bulk_blockers(account_id: str, interaction_ids: Sequence[str],
                  records: Mapping[str, Mapping[str, Any]]) -> list[Blocker]:
    """Every record of ``interaction_ids`` that cannot be completed now, in the order asked for."""
    blockers = []
    for interaction_id in interaction_ids:
        record = records.get(interaction_id)
        if record is None:
            blockers.append(Blocker(interaction_id, "not_found"))
        elif record.get("status") == CLOSED:
            blockers.append(Blocker(interaction_id, "closed"))
        elif record.get("account_id") != account_id:
            blockers.append(Blocker(interaction_id, "other_account"))
        elif record.get("_completion"):
            blockers.append(Blocker(interaction_id, "being_completed"))
    return blockers


def closing_fields(record: Mapping[str, Any], completion: Completion, *, self_service: bool = False) -> dict[str, Any]:
    """The fields a record gets when it closes; a self-service contact lasts until it ended."""
    until = contact_ended_at(record) if self_service else completion.closed_at
    return {
        "status": CLOSED,
        "outcome": completion.outcome,
        "result": completion.result,
        "reason_code": completion.reason_code,
        "closed_at": completion.closed_at,
        "closed_by": completion.closed_by,
        "duration_s": duration_s(record.get("opened_at"), until or completion.closed_at),
    }


def agents_after_close(record: Mapping[str, Any], closed_by: str | None) -> list[str]:
    """Every agent who handled the record, the closing agent included."""
    agents = set(record.get("agent_ids") or [])
    if closed_by:
        agents.add(closed_by)
    return sorted(agents)
