"""Subscribers: the interaction projection from ``ic.interactions.v1`` (idempotent, thin).

After an event that can tell an interaction's account, the follow-ups created from it before the
projection knew the account get it (copying control, completed). That runs also for a redelivered
event, whose projection write is a duplicate: the first delivery may have stopped before completing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.interactions_v1 import (
    InteractionAccountLinked,
    InteractionClosed,
    InteractionOpened,
    NoteAdded,
)

from .projection import InteractionProjection

TOPIC = "ic.interactions.v1"
Handler = Callable[[Envelope], Awaitable[None]]


class CopyCompletion(Protocol):
    async def complete_copies(self, interaction_id: str, *, cause_event_id: str) -> None: ...


def interaction_handlers(projection: InteractionProjection, copying: CopyCompletion) -> dict[str, Handler]:
    """The handler per ``ce_type``; activity-recorded carries nothing a follow-up copies and is skipped."""

    async def on_opened(envelope: Envelope) -> None:
        e = envelope.data
        assert isinstance(e, InteractionOpened)
        await projection.opened(e.interaction_id, event_id=envelope.id, channel=e.channel,
                                account_id=e.account_id, contact_id=e.contact_id)
        if e.account_id is not None:
            await copying.complete_copies(e.interaction_id, cause_event_id=envelope.id)

    async def on_account_linked(envelope: Envelope) -> None:
        e = envelope.data
        assert isinstance(e, InteractionAccountLinked)
        await projection.account_linked(e.interaction_id, event_id=envelope.id, account_id=e.account_id,
                                        business_agreement_id=e.business_agreement_id, premise_id=e.premise_id)
        await copying.complete_copies(e.interaction_id, cause_event_id=envelope.id)

    async def on_note_added(envelope: Envelope) -> None:
        e = envelope.data
        assert isinstance(e, NoteAdded)
        note = {"note_id": e.note_id, "type": e.type, "language": e.language, "text": e.text,
                "author": e.author, "created_at": e.created_at}
        await projection.note_added(e.interaction_id, event_id=envelope.id, account_id=e.account_id, note=note)
        if e.account_id is not None:
            await copying.complete_copies(e.interaction_id, cause_event_id=envelope.id)

    async def on_closed(envelope: Envelope) -> None:
        e = envelope.data
        assert isinstance(e, InteractionClosed)
        await projection.closed(e.interaction_id, event_id=envelope.id, values={
            "account_id": e.account_id, "business_agreement_id": e.business_agreement_id,
            "reason_code": e.reason_code, "outcome": e.outcome, "result": e.result})
        await copying.complete_copies(e.interaction_id, cause_event_id=envelope.id)  # and the last chance

    return {
        InteractionOpened.ce_type: on_opened,
        InteractionAccountLinked.ce_type: on_account_linked,
        NoteAdded.ce_type: on_note_added,
        InteractionClosed.ce_type: on_closed,
    }
