"""Periodic work: contacts that served themselves are closed once their grace has passed; closed records
past their retention are purged (:func:`retention_rules`).

``contact ended`` sets the record's ``self_service_due_at`` in the same write as the end, so no crash can
lose the check. Each round reads the ids of the records due now (on the ``self_service_due_at`` index) and
decides them all in one ``store.change_many`` (one read, one bulk write): closed as self-service, looked at
again after another grace, or let go. Safe in every replica: a record another replica changed meanwhile
loses its race and is decided again on what that replica left (due no more: nothing to do).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from collections.abc import Sequence
from typing import Any, Protocol

from icsuite_chassis.clock import Clock
from icsuite_chassis.retention import RetentionRule
from icsuite_chassis.store import AggregateStore, Change, Item, Stored

from .domain import rules
from .domain.record import Record
from .handlers.emit import commanded
from .repository import state_of
from .service import InteractionsService

ROUND_LIMIT = 500


class DueRecords(Protocol):
    async def due_for_self_service(self, now: datetime, limit: int) -> list[str]: ...


class SelfServiceCloser:
    def __init__(self, store: AggregateStore[Record], records: DueRecords, *, clock: Clock, grace_s: float,
                 limit: int = ROUND_LIMIT):
        self.store = store
        self.records = records
        self.clock = clock
        self.grace = timedelta(seconds=grace_s)
        self.limit = limit

    async def close_due(self) -> int:
        """One round: every record due now is closed as self-service, put back for later, or let go."""
        now = self.clock()

        def decide(current: Stored[Record] | None) -> Change[Record] | None:
            record = state_of(current)
            if record is None or record.self_service_due_at is None or record.self_service_due_at > now:
                return None
            return commanded(rules.self_service(record, now, self.grace),
                             correlation_id=record.contact_id or record.interaction_id,
                             derive=(record.interaction_id, "self-service"))

        due = await self.records.due_for_self_service(now, self.limit)
        outcomes = await self.store.change_many([Item(interaction_id, decide) for interaction_id in due])
        return sum(1 for outcome in outcomes if outcome.events)


def retention_rules(service: InteractionsService) -> list[RetentionRule]:
    """Closed records past ``closed_interaction_retention_days`` go, with their timeline entries and files."""

    async def purge_references(interaction_ids: Sequence[str]) -> None:
        await service.timeline.forget(interaction_ids)
        await service.attachments.delete_of_interactions(interaction_ids)

    def closed_before(cutoff: datetime) -> dict[str, Any]:
        return {"status": "closed", "closed_at": {"$lt": cutoff}}

    return [RetentionRule("closed_interactions", service.store, closed_before,
                          service.settings.closed_interaction_retention_days, also=purge_references)]
