"""The wired service object and the one way a work item changes: load, decide, save through the store."""

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

SOURCE = "/callbacks"
FOLLOWUP_REASON = "followup_call"
"""The reason profile of work items made from due follow-ups (the default profile routes them when absent)."""
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

    @property
    def queries(self) -> WorkItemQueries:
        return WorkItemQueries(self.items)

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


def _state(current: Stored[NumberSlots] | None) -> NumberSlots | None:
    return current.state if current is not None else None


def _slots(state: NumberSlots | None) -> Change[NumberSlots] | None:
    return Change(state) if state is not None else None
