"""Consumer handlers: each consumed event becomes one guarded write on its interaction record."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from icsuite_contracts.cloudevents import Envelope

from . import event_writes
from .repository import INTERACTIONS, EventWrite, InteractionsRepository

Clock = Callable[[], datetime]
Kick = Callable[[str, Any], None]
Handler = Callable[[Envelope], Awaitable[None]]
ENDED = "ic.contact.ended.v1"
CONTACT_WRITES: dict[str, Callable[[Envelope, datetime], EventWrite]] = {
    "ic.contact.started.v1": event_writes.contact_started,
    "ic.contact.segment.v1": event_writes.contact_segment,
    ENDED: event_writes.contact_ended,
}


class EventHandlers:
    """Applies contact, identity, callback and follow-up events to interaction records."""

    def __init__(self, repo: InteractionsRepository, *, kick: Kick, clock: Clock, self_service_grace_s: float):
        self.repo = repo
        self.kick = kick
        self.clock = clock
        self.grace = timedelta(seconds=self_service_grace_s)

    async def _apply(self, write: EventWrite | None) -> None:
        if write is None:
            return
        if await self.repo.apply_event(write) == "applied" and write.publish:
            self.kick(INTERACTIONS, write.interaction_id)

    async def on_contact_event(self, envelope: Envelope) -> None:
        now = self.clock()
        write = CONTACT_WRITES[envelope.type](envelope, now)
        if envelope.type == ENDED:  # first the reminder, so that no crash can lose the self-service check
            await self.repo.schedule_self_service(write.interaction_id, now + self.grace)
        await self._apply(write)

    async def on_contact_batch(self, envelopes: Sequence[Envelope]) -> None:
        """A whole batch of contact events in one bulk write, and the self-service reminders in another at the
        same time: both are stored before the offsets are committed, and a redelivered ``ended`` writes its
        reminder again even when its record write is a duplicate, so no crash can lose the check."""
        now = self.clock()
        pairs = [(e.type, CONTACT_WRITES[e.type](e, now)) for e in envelopes if e.type in CONTACT_WRITES]
        writes = [write for _, write in pairs]
        ended = [write.interaction_id for ce_type, write in pairs if ce_type == ENDED]
        await asyncio.gather(self.repo.schedule_self_service_many(ended, now + self.grace),
                             self.repo.apply_events(writes))
        for interaction_id in {w.interaction_id for w in writes if w.publish}:
            self.kick(INTERACTIONS, interaction_id)

    async def on_contact_identified(self, envelope: Envelope) -> None:
        await self._apply(event_writes.contact_identified(envelope, self.clock()))

    async def on_callback_started(self, envelope: Envelope) -> None:
        await self._apply(event_writes.callback_started(envelope, self.clock()))

    async def on_followup_created(self, envelope: Envelope) -> None:
        await self._apply(event_writes.followup_created(envelope, self.clock()))

    def contact_handlers(self) -> dict[str, Handler]:
        return {ce_type: self.on_contact_event for ce_type in CONTACT_WRITES}
