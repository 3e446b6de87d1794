"""Periodic work, run by every replica: reporting follow-ups whose due date passed.

Each report is a change of the follow-up through the store (``change_first`` on the candidates, oldest
first) that records it and puts the event in the follow-up's outbox in one guarded write: of replicas
racing for one follow-up, one write wins and the others, deciding again on what it stored, find nothing
left to report. So every report is stored once, whatever the replicas, crashes and restarts.
"""

from __future__ import annotations

from .domain import decide_overdue
from .handlers import Service, decision
from .repository import OVERDUE_ORDER, overdue_filter


async def report_overdue(svc: Service) -> int:
    """Report what is overdue now (at most ``overdue_batch_size``); the number this run reported."""
    now = svc.clock()
    reported = 0
    while reported < svc.settings.overdue_batch_size:
        outcome = await svc.followups.change_first(overdue_filter(now), OVERDUE_ORDER, decision(
            lambda f: decide_overdue(f, now)))
        if outcome is None:
            break
        reported += 1
    return reported
