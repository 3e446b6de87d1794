"""Periodic work: contacts that served themselves are closed once their grace has passed.

``contact ended`` sets the record's ``self_service_due_at`` in the same write as the end, so no crash can
lose the check. Each round takes the due records one by one through ``store.change_first`` (in due order,
on the ``self_service_due_at`` index); a record another replica took meanwhile loses its race and the next
is tried, so the job is safe in every replica.
"""

from __future__ import annotations

from datetime import timedelta

from icsuite_chassis.clock import Clock
from icsuite_chassis.store import AggregateStore, Change, Stored

from .domain import rules
from .domain.record import Record
from .handlers.emit import commanded
from .repository import SELF_SERVICE_DUE, state_of

ROUND_LIMIT = 500


class SelfServiceCloser:
    def __init__(self, store: AggregateStore[Record], *, clock: Clock, grace_s: float, limit: int = ROUND_LIMIT):
        self.store = store
        self.clock = clock
        self.grace = timedelta(seconds=grace_s)
        self.limit = limit

    async def close_due(self) -> int:
        """One round: every record due now is closed as self-service, put back for later, or let go."""
        now, closed = self.clock(), 0

        def decide(current: Stored[Record] | None) -> Change[Record] | None:
            record = state_of(current)
            if record is None:
                return None
            return commanded(rules.self_service(record, now, self.grace),
                             correlation_id=record.contact_id or record.interaction_id)

        for _ in range(self.limit):
            outcome = await self.store.change_first({"self_service_due_at": {"$lte": now}}, SELF_SERVICE_DUE, decide)
            if outcome is None:
                break
            closed += bool(outcome.events)
        return closed
