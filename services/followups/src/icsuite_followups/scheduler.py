"""The overdue job: reports each follow-up whose due date passed, once, from any number of replicas.

Every replica runs it. A candidate is marked with a guarded update (``overdue_emitted: false`` and the
same due date in the filter) that pushes ``ic.followup.overdue.v1`` to the outbox in the same write, so
of concurrent runs exactly one matches and the event is stored once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .domain import detect_overdue
from .events import envelopes_for
from .repository import FOLLOWUPS, FollowupRepository


@dataclass
class OverdueJob:
    followups: FollowupRepository
    kick: Callable[[str, Any], None]
    clock: Callable[[], datetime]
    batch_size: int = 500

    async def run_once(self) -> int:
        """Report what is overdue now; the number of follow-ups this run reported."""
        now = self.clock()
        reported = 0
        for followup in await self.followups.overdue_candidates(now, self.batch_size):
            detected = detect_overdue(followup, now)
            if detected is None:
                continue
            correlation_id = await self.followups.correlation_of(followup.followup_id)
            events = envelopes_for(followup, [detected], correlation_id=correlation_id)
            if await self.followups.mark_overdue(followup, now, events):
                self.kick(FOLLOWUPS, followup.followup_id)
                reported += 1
        return reported
