"""The service's consumer groups: each handler receives the event model it expects (typed, no downcasts)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from icsuite_chassis.consumer import Reject
from icsuite_chassis.errors import DomainError
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_contracts import callbacks_v1, contacts_v1, followups_v1, identity_v1, interactions_v1
from icsuite_contracts.base import Event
from icsuite_contracts.cloudevents import Envelope

from .projections.timeline import TIMELINE_TYPES
from .service import InteractionsService

E = TypeVar("E", bound=Event)
CONTACT_EVENTS = (contacts_v1.ContactStarted, contacts_v1.ContactSegmentRecorded, contacts_v1.ContactEnded)


def typed(model: type[E] | tuple[type[E], ...], handle: Callable[[Envelope, E], Awaitable[None]]) -> Callable[
        [Envelope], Awaitable[None]]:
    """A consumer handler that hands ``handle`` the event as ``model``; a refused event is dead-lettered."""

    async def handler(envelope: Envelope) -> None:
        event = envelope.data
        if not isinstance(event, model):
            raise Reject(f"{envelope.type} does not carry the expected event")
        try:
            await handle(envelope, event)
        except DomainError as exc:  # the event can never apply (a segment that ends before it starts)
            raise Reject(exc.detail) from exc

    return handler


def register_consumers(runtime: ServiceRuntime, service: InteractionsService) -> None:
    intake, settings = service.intake, service.settings

    async def contact_batch(envelopes: Sequence[Envelope]) -> None:
        """A batch in one read and one bulk write; if one event is refused, the chassis falls back to the
        per-event handlers, which dead-letter that one."""
        await intake.on_contact_events([(e, e.data) for e in envelopes if isinstance(e.data, CONTACT_EVENTS)])

    contact = typed(CONTACT_EVENTS, lambda cause, event: intake.on_contact_events([(cause, event)]))
    options: dict[str, Any] = {"batch_handler": contact_batch} if settings.contacts_batch else {}
    runtime.add_consumer("contacts", [contacts_v1.TOPIC], {m.ce_type: contact for m in CONTACT_EVENTS}, **options)
    runtime.add_consumer("identity", [identity_v1.TOPIC], {identity_v1.ContactIdentified.ce_type: typed(
        identity_v1.ContactIdentified, intake.on_contact_identified)})
    runtime.add_consumer("callbacks", [callbacks_v1.TOPIC], {callbacks_v1.CallbackStarted.ce_type: typed(
        callbacks_v1.CallbackStarted, intake.on_callback_started)})
    runtime.add_consumer("followups", [followups_v1.TOPIC], {followups_v1.FollowupCreated.ce_type: typed(
        followups_v1.FollowupCreated, intake.on_followup_created)})
    timeline = service.timeline

    async def project(envelopes: Sequence[Envelope]) -> None:
        await timeline.apply(envelopes)

    async def project_one(envelope: Envelope) -> None:
        await timeline.apply([envelope])

    runtime.add_consumer("timeline", [interactions_v1.TOPIC], {t: project_one for t in TIMELINE_TYPES},
                         batch_handler=project, fetch_min_bytes=settings.timeline_fetch_min_bytes)
