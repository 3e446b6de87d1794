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

    def item(self, cause: Envelope) -> Item[Record] | None:
        """The change one consumed event makes (``None`` for an event this service does not act on)."""
        event = cause.data
        if isinstance(event, ContactStarted | ContactSegmentRecorded | ContactEnded):
            return self.contact_item(cause, event)
        if isinstance(event, ContactIdentified):
            return self._item(cause, interaction_id_for_contact(event.contact_id),
                              lambda r: intake.contact_identified(r, event))
        if isinstance(event, CallbackStarted):
            return self._item(cause, interaction_id_for_callback(event.callback_id, event.attempt),
                              lambda r: intake.callback_started(r, event, cause.id))
        if isinstance(event, FollowupCreated) and event.source.type == "interaction":
            return self._item(cause, event.source.id, lambda r: intake.followup_created(r, event, cause.id))
        return None

    async def on_events(self, causes: Sequence[Envelope]) -> None:
        """A consumer batch: one read of its records, the decisions in order, one write per record."""
        items = [item for item in map(self.item, causes) if item is not None]
        if items:
            await self.store.change_many(items)
