"""The time-based transitions, run by a periodic job in every replica.

Each transition is a guarded write of one item (see :func:`handlers.support.transition`): when two
replicas pick the same item, one write succeeds and the other finds nothing left to do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from icsuite_chassis.logging import get_logger

from .domain import WorkItem, lifecycle
from .domain.lifecycle import Decision
from .domain.intake import open_window, settle_identification
from .handlers.support import ConcurrentChange, Deps, ItemNotFound, emit_pending_claim, transition

_log = get_logger(__name__)


async def run_due_transitions(deps: Deps) -> dict[str, int]:
    """End identification waits, open windows, expire what is past its window, finish stale claims."""
    now = deps.clock()
    done = {"identification_ended": 0, "window_opened": 0, "expired": 0, "claims_emitted": 0}
    for item in await deps.items.identification_over(now):
        done["identification_ended"] += await _guarded(
            deps, item, lambda read: settle_identification(read, None, deps.clock()))
    for item in await deps.items.window_opened(now):
        done["window_opened"] += await _guarded(deps, item, lambda read: open_window(read, deps.clock()))
    for item in await deps.items.window_passed(now):
        done["expired"] += await _guarded(deps, item, lambda read: lifecycle.expire(read, deps.clock()))
    for item in await deps.items.stale_pending_claims(now - timedelta(seconds=deps.pending_claim_repair_s)):
        await emit_pending_claim(deps, item)
        done["claims_emitted"] += 1
    if any(done.values()):
        _log.info("scheduled transitions", **done)
    return done


async def _guarded(deps: Deps, scanned: WorkItem, decide: Callable[[WorkItem], Decision]) -> int:
    try:
        after = await transition(deps, scanned.callback_id, decide)
    except (ItemNotFound, ConcurrentChange):
        return 0  # gone, or another replica is on it
    return int(after.version > scanned.version)


async def repair_claimable(deps: Deps) -> dict[str, int]:
    """Claimable entries for queued items that lack one (a crash between two writes), none for the rest."""
    done = await deps.items.repair_claimable()
    if any(done.values()):
        _log.info("claimable entries repaired", **done)
    return done


def claimable_repair_job(deps: Deps) -> Callable[[], Awaitable[dict[str, int]]]:
    async def run() -> dict[str, int]:
        return await repair_claimable(deps)

    return run


def scheduler_job(deps: Deps) -> Callable[[], Awaitable[dict[str, int]]]:
    async def run() -> dict[str, int]:
        return await run_due_transitions(deps)

    return run
