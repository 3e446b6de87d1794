"""Consumed events: each one is a decision on its record (made on first sight), saved through the store
with the event's id, so a redelivery changes nothing and a batch is one read and one write per record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from icsuite_chassis.clock import Clock
from icsuite_chassis.store import AggregateStore, Change, Item, Stored
from icsuite_contracts.callbacks_v1 import CallbackStarted
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.contacts_v1 import ContactEnded, ContactSegmentRecorded, ContactStarted
from icsuite_contracts.followups_v1 import FollowupCreated
from icsuite_contracts.identity_v1 import ContactIdentified

from ..domain import intake
from ..domain.ids import interaction_id_for_callback, interaction_id_for_contact
from ..domain.record import Record
from ..repository import state_of
from .emit import caused_by

ContactEvent = ContactStarted | ContactSegmentRecorded | ContactEnded


class EventIntake:
    def __init__(self, store: AggregateStore[Record], *, clock: Clock, self_service_grace_s: float):
        self.store = store
        self.clock = clock
        self.grace = timedelta(seconds=self_service_grace_s)

    def _item(self, cause: Envelope, interaction_id: str, apply: intake.Apply) -> Item[Record]:
        now = self.clock()

        def decide(current: Stored[Record] | None) -> Change[Record] | None:
            return caused_by(cause, intake.receive(state_of(current), interaction_id, cause, now, apply))

        return Item(interaction_id, decide, cause.id)

    def contact_item(self, cause: Envelope, event: ContactEvent) -> Item[Record]:
        interaction_id = interaction_id_for_contact(event.contact_id)
        if isinstance(event, ContactStarted):
            return self._item(cause, interaction_id, lambda r: intake.contact_started(r, event))
        if isinstance(event, ContactSegmentRecorded):
            return self._item(cause, interaction_id, lambda r: intake.contact_segment(r, event))
        now = self.clock()
        return self._item(cause, interaction_id, lambda r: intake.contact_ended(r, event, now, self.grace))

    async def on_contact_events(self, events: Sequence[tuple[Envelope, ContactEvent]]) -> None:
        """A batch of contact events: one read of their records, one write per record."""
        await self.store.change_many([self.contact_item(cause, event) for cause, event in events])

    async def on_contact_identified(self, cause: Envelope, event: ContactIdentified) -> None:
        interaction_id = interaction_id_for_contact(event.contact_id)
        await self.store.change_many([self._item(cause, interaction_id, lambda r: intake.contact_identified(r, event))])

    async def on_callback_started(self, cause: Envelope, event: CallbackStarted) -> None:
        interaction_id = interaction_id_for_callback(event.callback_id, event.attempt)
        await self.store.change_many([self._item(cause, interaction_id,
                                                 lambda r: intake.callback_started(r, event, cause.id))])

    async def on_followup_created(self, cause: Envelope, event: FollowupCreated) -> None:
        if event.source.type != "interaction":
            return
        await self.store.change_many([self._item(cause, event.source.id,
                                                 lambda r: intake.followup_created(r, event, cause.id))])
