"""Periodic work, run by every replica: reporting follow-ups whose due date passed (overdue), and call
follow-ups whose planned start arrived (due: the call becomes work in the owner's inbox), and the retention
purge of finished follow-ups (:func:`retention_rules`).

Each report is a change of the follow-up through the store (``change_first`` on the candidates, oldest
first) that records it and puts the event in the follow-up's outbox in one guarded write: of replicas
racing for one follow-up, one write wins and the others, deciding again on what it stored, find nothing
left to report. So every report is stored once, whatever the replicas, crashes and restarts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from icsuite_chassis.retention import RetentionRule

from .domain import FINAL_STATUSES, Followup, FollowupEvent, decide_due, decide_overdue
from .handlers import Service, decision
from .repository import DUE_ORDER, OVERDUE_ORDER, due_filter, overdue_filter


async def _report(svc: Service, filter: Mapping[str, Any], order: Sequence[tuple[str, int]],
                  decide: Any, limit: int) -> int:
    reported = 0
    while reported < limit:
        if await svc.followups.change_first(filter, order, decision(decide)) is None:
            break
        reported += 1
    return reported


async def report_overdue(svc: Service) -> int:
    """Report what is overdue now (at most ``overdue_batch_size``); the number this run reported."""
    now = svc.clock()

    def decide(f: Followup) -> tuple[Followup, list[FollowupEvent]]:
        return decide_overdue(f, now)

    return await _report(svc, overdue_filter(now), OVERDUE_ORDER, decide, svc.settings.overdue_batch_size)


async def report_due(svc: Service) -> int:
    """Report the calls whose planned start arrived (at most ``due_batch_size``) with ic.followup.due.v1."""
    now: datetime = svc.clock()

    def decide(f: Followup) -> tuple[Followup, list[FollowupEvent]]:
        return decide_due(f, now)

    return await _report(svc, due_filter(now), DUE_ORDER, decide, svc.settings.due_batch_size)


def retention_rules(svc: Service) -> list[RetentionRule]:
    """Completed and cancelled follow-ups whose last change is older than the retention go (notes with them)."""

    def finished_before(cutoff: datetime) -> dict[str, Any]:
        return {"status": {"$in": sorted(FINAL_STATUSES)}, "updated_at": {"$lt": cutoff}}

    return [RetentionRule("finished_followups", svc.followups, finished_before,
                          svc.settings.finished_followup_retention_days)]
