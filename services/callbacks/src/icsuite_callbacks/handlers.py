"""Use cases of the callbacks service: load, let the domain decide, save through the aggregate store."""

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

from .domain import (
    DEFAULT_PROFILE, SEED_PROFILES, Actor, CallbackNotFound, CallbackRequest, CallerIdentity, IntakePolicy,
    NotOwner, NumberSlots, ProfileNotFound, ReasonProfile, TooManyOpenRequests, WorkItem, check_request,
    choose_profile, workable,
)
from .domain import lifecycle as lc
from .domain.intake import decide_identified, decide_intake
from .domain.rates import RateCount, RateLimit, decide_count
from .domain.slots import decide_give_back, decide_take_slot
from .projections import AccountNumbers, Identifications
from .repository import INBOX_ORDER, RATES, InboxPosition, RateCodec, WorkItemQueries, find_states

SOURCE = "/callbacks"
SLOT_GRACE = timedelta(seconds=60)
"""A slot whose item does not exist after this long was left by a crash between the two writes."""


def random_id() -> str:
    return uuid.uuid4().hex


@dataclass
class CallbacksService:
    """The wired service (``app.state.service``): stores, queries, policies and the clock."""

    items: AggregateStore[WorkItem]
    profiles: AggregateStore[ReasonProfile]
    slots: AggregateStore[NumberSlots]
    identifications: Identifications
    accounts: AccountNumbers = field(default_factory=AccountNumbers.in_memory)
    rates: AggregateStore[RateCount] = field(default_factory=lambda: InMemoryAggregateStore(RATES, RateCodec()))
    policy: IntakePolicy = field(default_factory=IntakePolicy)
    max_open_per_number: int = 3
    caller_limit: RateLimit = RateLimit("caller", 20, 60)
    number_limit: RateLimit = RateLimit("number", 6, 3600)
    clock: Clock = utc_now
    new_id: Callable[[], str] = random_id
    claims_in_flight: set[str] = field(default_factory=set)  # items a claim-next of this process is writing

    @property
    def queries(self) -> WorkItemQueries:
        return WorkItemQueries(self.items)


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


async def masterdata_changed(svc: CallbacksService, envelopes: Sequence[Envelope]) -> None:
    """Account snapshots from master data: their phone numbers, for ``dial: account``."""
    await svc.accounts.apply(envelopes)


async def _count(svc: CallbacksService, limit: RateLimit, key: str, now: datetime) -> None:
    await svc.rates.change(limit.counter(key), lambda cur: Change(decide_count(cur.state if cur else None, limit, now)))


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


# --- commands ----------------------------------------------------------------------------------------------

async def claim_next(svc: CallbacksService, actor: Actor) -> WorkItem | None:
    """The most urgent workable item, claimed for ``actor`` by the domain's claim; None when there is none.

    The store reads the first candidates of the inbox order and writes the first the domain accepts, guarded
    by its version. Claims in flight in this process skip each other's candidates instead of racing for them.
    """
    now, cmd, trying = svc.clock(), lc.Claim(actor), set[str]()

    def claim(current: Stored[WorkItem] | None) -> Change[WorkItem] | None:
        svc.claims_in_flight.difference_update(trying)
        if current is None or current.id in svc.claims_in_flight:
            return None
        decision = lc.decide_claim_next(current.state, cmd, now)
        if decision is not None:
            trying.add(current.id)
            svc.claims_in_flight.add(current.id)
        return _change(current, decision, None)

    try:
        outcome = await svc.items.change_first(_not_in_flight(svc, workable(now)), INBOX_ORDER, claim)
    finally:
        svc.claims_in_flight.difference_update(trying)
    return outcome.stored.state if outcome is not None and outcome.stored is not None else None


async def claim(svc: CallbacksService, callback_id: str, cmd: lc.Claim) -> WorkItem:
    return await transition(svc, callback_id, lambda item: lc.decide_claim(item, cmd, svc.clock()))


async def start(svc: CallbacksService, callback_id: str, cmd: lc.Start) -> WorkItem:
    """Begin an attempt; ``dial: account`` dials one of the account's own numbers (replicated master data)."""
    if cmd.dial == "account":
        item = await get_callback(svc, callback_id)
        cmd = replace(cmd, account_numbers=await svc.accounts.of(item.account_id))
    return await transition(svc, callback_id, lambda item: lc.decide_start(item, cmd, svc.clock()))


async def fail(svc: CallbacksService, callback_id: str, cmd: lc.Fail) -> WorkItem:
    return await transition(svc, callback_id, lambda item: lc.decide_fail(item, cmd, svc.clock()))


async def release(svc: CallbacksService, callback_id: str, cmd: lc.Release) -> WorkItem:
    return await transition(svc, callback_id, lambda item: lc.decide_release(item, cmd, svc.clock()))


async def complete(svc: CallbacksService, callback_id: str, cmd: lc.Complete) -> WorkItem:
    return await transition(svc, callback_id, lambda item: lc.decide_complete(item, cmd, svc.clock()))


async def cancel(svc: CallbacksService, callback_id: str, cmd: lc.Cancel) -> WorkItem:
    return await transition(svc, callback_id, lambda item: lc.decide_cancel(item, cmd, svc.clock()))


# --- queries -----------------------------------------------------------------------------------------------

async def get_callback(svc: CallbacksService, callback_id: str) -> WorkItem:
    if (stored := await svc.items.get(callback_id)) is None:
        raise CallbackNotFound(f"no callback {callback_id}")
    return stored.state


async def general_inbox(svc: CallbacksService, limit: int, after: InboxPosition | None) -> list[WorkItem]:
    return await svc.queries.page(workable(svc.clock()), limit, after)


async def agent_inbox(svc: CallbacksService, agent_id: str, actor: Actor, limit: int,
                      after: InboxPosition | None) -> list[WorkItem]:
    if agent_id != actor.id and not actor.supervisor:
        raise NotOwner("an agent sees only their own inbox; a supervisor sees every agent's")
    return await svc.queries.of_agent(agent_id, limit, after)


# --- reason profiles ---------------------------------------------------------------------------------------

async def get_profile(svc: CallbacksService, reason_code: str) -> ReasonProfile:
    if (stored := await svc.profiles.get(reason_code)) is None:
        raise ProfileNotFound(f"no reason profile {reason_code!r}; callbacks with this reason are routed "
                              "by the default profile")
    return stored.state


async def list_profiles(svc: CallbacksService) -> list[ReasonProfile]:
    return await find_states(svc.profiles, {}, [("_id", 1)])


async def put_profile(svc: CallbacksService, profile: ReasonProfile) -> bool:
    """Store the profile (new items are routed by it); True when it was created."""
    created: list[bool] = []

    def put(current: Stored[ReasonProfile] | None) -> Change[ReasonProfile]:
        created.append(current is None)
        return Change(profile)

    await svc.profiles.change(profile.reason_code, put)
    return created[-1]


async def seed_profiles(svc: CallbacksService) -> None:
    """Store the seed profiles that do not exist yet (an admin's edits are never overwritten)."""
    for profile in SEED_PROFILES:
        await svc.profiles.change(profile.reason_code, lambda current, p=profile: None if current else Change(p))


# --- the one way an item changes ---------------------------------------------------------------------------

async def transition(svc: CallbacksService, callback_id: str, decide: Callable[[WorkItem], lc.Decision],
                     cause: Envelope | None = None) -> WorkItem:
    """Load the item, let the domain decide, save the result with its events (404 for an unknown id)."""
    outcome = await _apply(svc, callback_id, decide, cause=cause)
    return outcome.stored.state  # type: ignore[union-attr]


async def tick(svc: CallbacksService, callback_id: str, decide: Callable[[WorkItem], lc.Decision]) -> bool:
    """A time-based transition (the scheduler's): True when it changed the item; a gone item changes nothing."""
    return (await _apply(svc, callback_id, decide, must_exist=False)).changed


async def _apply(svc: CallbacksService, callback_id: str, decide: Callable[[WorkItem], lc.Decision], *,
                 cause: Envelope | None = None, must_exist: bool = True) -> Outcome[WorkItem]:
    read: list[WorkItem] = []

    def step(current: Stored[WorkItem] | None) -> Change[WorkItem] | None:
        if current is None:
            if must_exist:
                raise CallbackNotFound(f"no callback {callback_id}")
            return None
        read.append(current.state)
        return _change(current, decide(current.state), cause)

    outcome = await svc.items.change(callback_id, step, event_id=cause.id if cause else None)
    if outcome.changed and read[-1].is_open and not outcome.stored.state.is_open:  # type: ignore[union-attr]
        await svc.slots.change(read[-1].callback_number,
                               lambda cur: _slots(decide_give_back(_state(cur), callback_id)))
    return outcome


def _change(current: Stored[WorkItem], decision: lc.Decision | None, cause: Envelope | None) -> Change[WorkItem] | None:
    if decision is None or not decision[1]:
        return None
    item, events = decision
    return Change(item, _envelopes(current.id, current.version, events, cause))


def _envelopes(callback_id: str, version: int, events: list[Event] | list, cause: Envelope | None) -> list[Envelope]:
    """Event ids derived from the version the change was decided on, so a retried write repeats them."""
    return [_envelope(event, id=derive_event_id(callback_id, f"v{version}:{index}:{event.ce_type}"),
                      request_id=event.request_id, cause=cause) for index, event in enumerate(events)]


def _envelope(event: Event, *, id: str, request_id: str, cause: Envelope | None) -> Envelope:
    return new_envelope(event, source=SOURCE, id=id, subject=event.key(),
                        correlation_id=cause.correlation_id if cause and cause.correlation_id else request_id,
                        causation_id=cause.id if cause else None)


def _requested_envelope(request: CallbackRequest) -> Envelope:
    event = CallbackRequested(
        request_id=request.request_id, callback_number=request.callback_number, account_id=request.account_id,
        reason_code=request.reason_code, preferred_from=request.preferred_from, preferred_to=request.preferred_to,
        time_zone=request.time_zone, language=request.language, channel=request.channel,  # type: ignore[arg-type]
        attributes=request.attributes)
    return _envelope(event, id=derive_event_id(request.request_id, "requested"), request_id=request.request_id,
                     cause=None)


def _not_in_flight(svc: CallbacksService, condition: dict) -> dict:
    busy = sorted(svc.claims_in_flight)
    return {**condition, "_id": {"$nin": busy}} if busy else condition


def _state(current: Stored[NumberSlots] | None) -> NumberSlots | None:
    return current.state if current is not None else None


def _slots(state: NumberSlots | None) -> Change[NumberSlots] | None:
    return Change(state) if state is not None else None
