"""Periodic work, run in every replica: the time-based transitions of the work items, and the retention
purge of closed items (:func:`retention_rules`).

Each step is a change through the store: when two replicas pick the same item, one write succeeds and the
other finds nothing left to do (or loses its race and leaves the item to the next run).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from icsuite_chassis.errors import StoreConflict
from icsuite_chassis.logging import get_logger
from icsuite_chassis.retention import RetentionRule

from .domain import WorkItem
from .domain.intake import decide_identified, decide_open_window
from .domain.model import CLOSED_STATUSES
from .domain.lifecycle import Decision, decide_expire
from .handlers import CallbacksService, tick

_log = get_logger(__name__)
Scan = Callable[[datetime], Awaitable[list[str]]]


async def run_due_transitions(svc: CallbacksService) -> dict[str, int]:
    """End identification waits, open windows, expire what is past its window."""
    now = svc.clock()
    steps: list[tuple[str, Scan, Callable[[WorkItem], Decision]]] = [
        ("identification_ended", svc.queries.identification_over, lambda it: decide_identified(it, None, svc.clock())),
        ("window_opened", svc.queries.window_opened, lambda it: decide_open_window(it, svc.clock())),
        ("expired", svc.queries.window_passed, lambda it: decide_expire(it, svc.clock())),
    ]
    done = {}
    for name, scan, decide in steps:
        done[name] = sum([await _tick(svc, callback_id, decide) for callback_id in await scan(now)])
    if any(done.values()):
        _log.info("scheduled transitions", **done)
    return done


async def _tick(svc: CallbacksService, callback_id: str, decide: Callable[[WorkItem], Decision]) -> int:
    try:
        return int(await tick(svc, callback_id, decide))
    except StoreConflict:
        return 0  # another replica is on it; the next run sees what is left


def scheduler_job(svc: CallbacksService) -> Callable[[], Awaitable[dict[str, int]]]:
    async def run() -> dict[str, int]:
        return await run_due_transitions(svc)

    return run


def retention_rules(svc: CallbacksService, retention_days: float) -> list[RetentionRule]:
    """Closed items (completed, failed, expired, cancelled) whose last change is older than the retention go,
    with the caller identification kept for their request."""

    def closed_before(cutoff: datetime) -> dict[str, Any]:
        return {"status": {"$in": list(CLOSED_STATUSES)}, "updated_at": {"$lt": cutoff}}

    async def purge_references(callback_ids: Sequence[str]) -> None:
        await svc.identifications.forget(callback_ids)  # the callback id is its request id

    return [RetentionRule("closed_callbacks", svc.items, closed_before, retention_days, also=purge_references)]
