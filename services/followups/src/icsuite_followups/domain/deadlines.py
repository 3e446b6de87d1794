"""What time does to a follow-up: a due date that passes (overdue), a call's planned start that arrives (due).

Each is reported once: the decision records it in the state, so deciding again answers nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from .followup import ACTIVE_STATUSES, CALL_TYPES, CameDue, Followup, FollowupEvent, OverdueDetected

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


def is_coming_due(followup: Followup, now: datetime) -> bool:
    """A call still to make whose planned start arrived and was not reported yet (for this planned start)."""
    start = followup.schedule.planned_start
    return (followup.type in CALL_TYPES and start is not None and start <= now
            and followup.status in ACTIVE_STATUSES and followup.came_due_at is None)


def decide_due(followup: Followup, now: datetime) -> Decided:
    if not is_coming_due(followup, now):
        return followup, []
    start = followup.schedule.planned_start
    assert start is not None
    return replace(followup, came_due_at=now), [CameDue(planned_start=start, at=now)]
