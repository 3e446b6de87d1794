"""Subscribers: callback requests from the IVR topic, and identity's caller-identified (typed events in)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from icsuite_chassis.account_merge import Movable, register_merge_consumer
from icsuite_chassis.store import AggregateStore

from icsuite_chassis.consumer import Reject
from icsuite_chassis.errors import DomainError
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_contracts.base import Event
from icsuite_contracts.callback_requests_v1 import TOPIC as REQUESTS_TOPIC
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.identity_v1 import TOPIC as IDENTITY_TOPIC
from icsuite_contracts.followups_v1 import TOPIC as FOLLOWUPS_TOPIC
from icsuite_contracts.followups_v1 import FollowupDue
from icsuite_contracts.identity_v1 import CallerIdentified
from icsuite_contracts.masterdata_v1 import TOPIC as MASTERDATA_TOPIC
from icsuite_contracts.masterdata_v1 import AccountUpserted

from . import handlers
from .domain import CallbackRequest
from .domain.intake import DueFollowup
from .handlers import CallbacksService

E = TypeVar("E", bound=Event)
Handler = Callable[[Envelope], Awaitable[None]]


def typed(model: type[E], handle: Callable[[E, Envelope], Awaitable[None]]) -> tuple[str, Handler]:
    """The consumer's handler of ``model``'s events: ``handle`` gets the event as that model.

    A request the domain refuses (a rule, the abuse guard) can never apply: it goes to the dead-letter topic.
    """

    async def on(envelope: Envelope) -> None:
        if not isinstance(envelope.data, model):
            raise Reject(f"{envelope.type} did not decode as {model.__name__}")
        try:
            await handle(envelope.data, envelope)
        except DomainError as exc:
            raise Reject(f"{type(exc).__name__}: {exc.detail}") from None

    return model.ce_type, on


def request_of(event: CallbackRequested) -> CallbackRequest:
    return CallbackRequest(
        request_id=event.request_id, callback_number=event.callback_number, channel=event.channel,
        account_id=event.account_id, reason_code=event.reason_code, preferred_from=event.preferred_from,
        preferred_to=event.preferred_to, time_zone=event.time_zone, language=event.language,
        attributes=dict(event.attributes))


def register_consumers(runtime: ServiceRuntime, svc: CallbacksService) -> None:
    async def on_requested(event: CallbackRequested, envelope: Envelope) -> None:
        await handlers.submit_request(svc, request_of(event), cause=envelope)

    async def on_identified(event: CallerIdentified, envelope: Envelope) -> None:
        await handlers.callers_identified(svc, [envelope])

    async def on_identified_batch(envelopes: Sequence[Envelope]) -> None:
        await handlers.callers_identified(svc, envelopes)

    async def on_account(event: AccountUpserted, envelope: Envelope) -> None:
        await handlers.masterdata_changed(svc, [envelope])

    async def on_account_batch(envelopes: Sequence[Envelope]) -> None:
        await handlers.masterdata_changed(svc, envelopes)

    runtime.add_consumer("masterdata", [MASTERDATA_TOPIC], dict([typed(AccountUpserted, on_account)]),
                         batch_handler=on_account_batch)
    async def on_followup_due(event: FollowupDue, envelope: Envelope) -> None:
        due = DueFollowup(followup_id=event.followup_id, account_id=event.account_id, owner_id=event.owner_id,
                          type=event.type, planned_start=event.planned_start)
        await handlers.followup_due(svc, due, envelope)

    runtime.add_consumer("followups", [FOLLOWUPS_TOPIC], dict([typed(FollowupDue, on_followup_due)]))
    runtime.add_consumer("requests", [REQUESTS_TOPIC], dict([typed(CallbackRequested, on_requested)]))
    runtime.add_consumer("identity", [IDENTITY_TOPIC], dict([typed(CallerIdentified, on_identified)]),
                         batch_handler=on_identified_batch)


def register_merges(runtime: ServiceRuntime, svc: CallbacksService, merges: AggregateStore[Any]) -> None:
    """Merged accounts: the work items follow the surviving account, and so do identity's answers about the
    requests' numbers (``caller_identifications``), each with its one candidate when that was its account (so the
    unmerge restores it exactly); the candidates of an item not identified are answered through the merge
    records when read (:func:`handlers.with_surviving_candidates`)."""
    movables = [Movable("callbacks", svc.items, with_account=with_account_and_candidate),
                Movable("caller_identifications", svc.identifications.store, with_account=with_account_and_candidate)]
    register_merge_consumer(runtime, merges, movables, svc.clock)


def with_account_and_candidate(state: Any, account_id: str) -> Any:
    """The state on ``account_id``; its candidates too when they were only the account it leaves."""
    candidates = (account_id,) if tuple(state.candidates) == (state.account_id,) else state.candidates
    return replace(state, account_id=account_id, candidates=candidates)
