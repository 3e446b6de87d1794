"""Subscribers: which event types of which topics reach which handler, each with the event model it expects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from icsuite_chassis.consumer import Reject
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_contracts.base import Event
from icsuite_contracts.callback_requests_v1 import TOPIC as CALLBACK_REQUESTS
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.contacts_v1 import TOPIC as CONTACTS
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded, ContactStarted
from icsuite_contracts.masterdata_v1 import TOPIC as MASTERDATA
from icsuite_contracts.masterdata_v1 import AccountUpserted, BusinessAgreementUpserted, PremiseUpserted
from icsuite_contracts.privacy_v1 import TOPIC as PRIVACY
from icsuite_contracts.privacy_v1 import Erased, ErasureRequested

from . import handlers
from .handlers import IdentityService, erasures

CONSUMED_TOPICS = (MASTERDATA, CONTACTS, CALLBACK_REQUESTS, PRIVACY)
E = TypeVar("E", bound=Event)
Handler = Callable[[Envelope], Awaitable[None]]


def typed(model: type[E], handle: Callable[[E, Envelope], Awaitable[None]]) -> tuple[str, Handler]:
    """The handler of ``model``'s event type, given the event as that model."""
    async def handler(envelope: Envelope) -> None:
        if not isinstance(envelope.data, model):
            raise Reject(f"{envelope.type} did not decode to {model.__name__}")
        await handle(envelope.data, envelope)
    return model.ce_type, handler


def register_consumers(runtime: ServiceRuntime, svc: IdentityService) -> None:
    snapshot = lambda _, env: handlers.on_snapshot(svc, env)  # noqa: E731
    runtime.add_consumer("masterdata", [MASTERDATA], dict([
        typed(AccountUpserted, snapshot), typed(BusinessAgreementUpserted, snapshot), typed(PremiseUpserted, snapshot),
    ]), batch_handler=lambda envelopes: handlers.on_snapshots(svc, envelopes))
    runtime.add_consumer("contacts", [CONTACTS], dict([
        typed(ContactStarted, lambda event, env: handlers.on_contact_started(svc, event, env)),
        typed(ContactSegmentRecorded, lambda event, env: handlers.on_contact_segment(svc, event, env)),
    ]), batch_handler=lambda envelopes: handlers.on_contact_events(svc, envelopes))
    runtime.add_consumer("callback-requests", [CALLBACK_REQUESTS], dict([
        typed(CallbackRequested, lambda event, env: handlers.on_callback_requested(svc, event, env)),
    ]))
    runtime.add_consumer("privacy", [PRIVACY], dict([
        typed(ErasureRequested, lambda event, env: erasures.on_erasure_requested(svc, event, env)),
        typed(Erased, lambda event, env: erasures.on_erased(svc, event, env)),
    ]))
