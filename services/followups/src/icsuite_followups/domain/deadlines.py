"""What time does to a follow-up: a due date that passes (overdue).

Each is reported once: the decision records it in the state, so deciding again answers nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .followup import ACTIVE_STATUSES, Followup, FollowupEvent, OverdueDetected

Decided = tuple[Followup, list[FollowupEvent]]


def is_overdue(followup: Followup, now: datetime) -> bool:
    """Due, not finished, and not yet reported for this due date."""
    due = followup.schedule.due_at
    return (due is not None and due <= now and followup.status in ACTIVE_STATUSES
            and not followup.overdue_emitted)


def decide_overdue(followup: Followup, now: datetime) -> Decided:
    if not is_overdue(followup, now):
        return followup, []
    due = followup.schedule.due_at
    assert due is not None
    return replace(followup, overdue_emitted=True), [OverdueDetected(due_at=due, at=now)]
