"""Intake: requests (gateway and IVR topic), identity's answers, due follow-ups, master data."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from icsuite_chassis.clock import Clock, utc_now
from icsuite_chassis.store import AggregateStore, Change, InMemoryAggregateStore, Item, Outcome, Stored
from icsuite_contracts.base import Event
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope
from icsuite_contracts.identity_v1 import CallerIdentified

from ..domain import (
    DEFAULT_PROFILE, SEED_PROFILES, Actor, CallbackNotFound, CallbackRequest, CallerIdentity, IntakePolicy,
    NotOwner, NumberSlots, ProfileNotFound, ReasonProfile, TooManyOpenRequests, WorkItem, check_request,
    choose_profile, workable,
)
from ..domain import lifecycle as lc
from ..domain.intake import DueFollowup, decide_followup_due, decide_identified, decide_intake
from ..domain.rates import RateCount, RateLimit, decide_count
from ..domain.slots import decide_give_back, decide_take_slot
from ..projections import AccountNumbers, Identifications
from ..repository import INBOX_ORDER, RATES, InboxPosition, RateCodec, WorkItemQueries, find_states

from .core import FOLLOWUP_REASON, SLOT_GRACE, SOURCE, CallbacksService, _change, _envelope, _envelopes, _slots, _state, transition


# --- intake ------------------------------------------------------------------------------------------------

async def submit_request(svc: CallbacksService, request: CallbackRequest, cause: Envelope | None = None,
                         caller: str | None = None) -> WorkItem:
    """Create the work item of a request once; a request seen before answers the item it made.

    A gateway request without account is published on the request topic too, so that identity looks the
    caller up (``cause`` is the request event of the topic path). Requests are counted per ``caller`` (the
    token's subject at the gateway) and per number: over a limit answers 429 with Retry-After.
    """
    if (existing := await svc.items.get(request.request_id)) is not None:
        return existing.state
    now = svc.clock()
    check_request(request, now, svc.policy)
    await _count(svc, svc.number_limit, request.callback_number, now)
    if caller is not None:
        await _count(svc, svc.caller_limit, caller, now)
    profile = await _profile_for(svc, request.reason_code)
    identity = None if request.account_id else await svc.identifications.get(request.request_id)
    await _take_slot(svc, request.callback_number, request.request_id, now)
    announce = [] if cause is not None or request.account_id else [_requested_envelope(request)]

    def create(current: Stored[WorkItem] | None) -> Change[WorkItem] | None:
        if current is not None:
            return None
        item, events = decide_intake(request, profile, identity, now, svc.policy)
        return Change(item, [*announce, *_envelopes(item.callback_id, 0, events, cause)])

    outcome = await svc.items.change(request.request_id, create, event_id=cause.id if cause else None)
    item = outcome.stored.state  # type: ignore[union-attr]
    if outcome.changed and item.awaiting_identification:  # identity may have answered meanwhile
        if (identity := await svc.identifications.get(request.request_id)) is not None:
            return await transition(svc, item.callback_id, lambda it: decide_identified(it, identity, svc.clock()))
    return item


async def callers_identified(svc: CallbacksService, envelopes: Sequence[Envelope]) -> None:
    """A batch of identity's answers: recorded (intake reads them when the answer came first), and each
    waiting item settled (one read and one write per item)."""
    answers = [(e.data, e) for e in envelopes if isinstance(e.data, CallerIdentified)]
    await svc.identifications.apply([e for _, e in answers])
    now = svc.clock()
    await svc.items.change_many([Item(event.request_id, _identified_step(event, e, now), e.id) for event, e in answers])


def _identified_step(event: CallerIdentified, envelope: Envelope,
                     now: datetime) -> Callable[[Stored[WorkItem] | None], Change[WorkItem] | None]:
    identity = CallerIdentity(account_id=event.account_id, candidates=tuple(event.candidates),
                              looked_up_number=event.callback_number)

    def step(current: Stored[WorkItem] | None) -> Change[WorkItem] | None:
        return _change(current, decide_identified(current.state, identity, now), envelope) if current else None

    return step


async def followup_due(svc: CallbacksService, due: DueFollowup, cause: Envelope) -> WorkItem | None:
    """A due call follow-up becomes a work item in its owner's inbox, once (its id is the follow-up's and the
    planned start's), dialling the account's stored number."""
    numbers = await svc.accounts.of(due.account_id)
    profile = await _profile_for(svc, FOLLOWUP_REASON)
    now = svc.clock()

    def create(current: Stored[WorkItem] | None) -> Change[WorkItem] | None:
        if current is not None:
            return None
        item, events = decide_followup_due(due, numbers, profile, now, svc.policy)
        return Change(item, _envelopes(item.callback_id, 0, events, cause))

    outcome = await svc.items.change(due.callback_id, create, event_id=cause.id)
    return outcome.stored.state if outcome.stored else None


async def masterdata_changed(svc: CallbacksService, envelopes: Sequence[Envelope]) -> None:
    """Account snapshots from master data: their phone numbers, for ``dial: account``."""
    await svc.accounts.apply(envelopes)


async def _count(svc: CallbacksService, limit: RateLimit, key: str, now: datetime) -> None:
    await svc.rates.change_together(limit.counter(key),
                                    lambda cur: Change(decide_count(cur.state if cur else None, limit, now)))


async def _profile_for(svc: CallbacksService, reason_code: str | None) -> ReasonProfile:
    own = await svc.profiles.get(reason_code) if reason_code else None
    default = await svc.profiles.get(DEFAULT_PROFILE)
    return choose_profile(reason_code, own.state if own else None, default.state if default else None)


async def _take_slot(svc: CallbacksService, number: str, callback_id: str, now: datetime) -> None:
    limit = svc.max_open_per_number
    try:
        await svc.slots.change(number, lambda cur: _slots(decide_take_slot(_state(cur), callback_id, limit, now)))
    except TooManyOpenRequests:
        stale = await _stale_holders(svc, number, now)
        if not stale:
            raise
        await svc.slots.change(number, lambda cur: _slots(decide_take_slot(_state(cur), callback_id, limit, now,
                                                                           stale)))


async def _stale_holders(svc: CallbacksService, number: str, now: datetime) -> frozenset[str]:
    """Slots a crash left behind: their item is closed, or was never written."""
    slots = await svc.slots.get(number)
    stale = set()
    for slot in slots.state.open if slots else ():
        held = await svc.items.get(slot.callback_id)
        if (held is None and slot.since < now - SLOT_GRACE) or (held is not None and not held.state.is_open):
            stale.add(slot.callback_id)
    return frozenset(stale)


def _requested_envelope(request: CallbackRequest) -> Envelope:
    event = CallbackRequested(
        request_id=request.request_id, callback_number=request.callback_number, account_id=request.account_id,
        reason_code=request.reason_code, preferred_from=request.preferred_from, preferred_to=request.preferred_to,
        time_zone=request.time_zone, language=request.language, channel=request.channel,  # type: ignore[arg-type]
        attributes=request.attributes)
    return _envelope(event, id=derive_event_id(request.request_id, "requested"), request_id=request.request_id,
                     cause=None)

