"""Consumed events: each one is a decision on its record (made on first sight), saved through the store
with the event's id, so a redelivery changes nothing and a batch is one read and one write per record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from icsuite_chassis.clock import Clock
from icsuite_chassis.store import AggregateStore, Change, Item, Stored
from icsuite_contracts.callbacks_v1 import (
    CallbackAttemptFailed,
    CallbackCancelled,
    CallbackCompleted,
    CallbackExpired,
    CallbackStarted,
)
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.contacts_v1 import ContactEnded, ContactSegmentRecorded, ContactStarted
from icsuite_contracts.followups_v1 import FollowupCreated
from icsuite_contracts.identity_v1 import ContactIdentified

from ..domain import intake, rules
from ..domain.ids import interaction_id_for_callback, interaction_id_for_contact
from ..domain.record import Record
from ..repository import state_of
from .emit import caused_by

ContactEvent = ContactStarted | ContactSegmentRecorded | ContactEnded
CALLBACK_ENDS = (CallbackCompleted, CallbackAttemptFailed, CallbackExpired, CallbackCancelled)


class CallbackRecords(Protocol):
    async def open_for_callback(self, callback_id: str) -> list[str]: ...


class EventIntake:
    def __init__(self, store: AggregateStore[Record], records: CallbackRecords, *, clock: Clock,
                 self_service_grace_s: float):
        self.store = store
        self.records = records
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
        """A consumer batch: one read of its records, the decisions in order, one write per record; the end
        of a callback closes its open records after what came before it in the batch is stored."""
        pending: list[Item[Record]] = []
        for cause in causes:
            if isinstance(cause.data, CALLBACK_ENDS):
                await self._save(pending)
                await self._close_for_callback(cause, cause.data)
            elif (item := self.item(cause)) is not None:
                pending.append(item)
        await self._save(pending)

    async def _save(self, items: list[Item[Record]]) -> None:
        if items:
            await self.store.change_many(items)
            items.clear()

    async def _close_for_callback(self, cause: Envelope, event: intake.CallbackEnd) -> None:
        ending = intake.callback_ending(event)
        if ending is None:
            return
        outcome, closed_by = ending

        def close(interaction_id: str) -> Item[Record]:
            def decide(current: Stored[Record] | None) -> Change[Record] | None:
                record = state_of(current)
                decision = rules.close_for_callback(record, outcome, closed_by, event.at) if record else None
                return caused_by(cause, decision, scope=f"{interaction_id}/")
            return Item(interaction_id, decide, cause.id)

        await self._save([close(i) for i in await self.records.open_for_callback(event.callback_id)])
