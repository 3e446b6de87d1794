"""Commands on work items, the inbox queries and the reason profiles."""

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
from ..domain.routing import qualifications, servable_by
from ..domain.slots import decide_give_back, decide_take_slot
from ..projections import AccountNumbers, Identifications
from ..repository import INBOX_ORDER, QUEUED, RATES, InboxPosition, RateCodec, WorkItemQueries, find_states

from .core import CallbacksService, _change, transition


CLAIM_NEXT = "claim-next"
"""The share key of claim-next's reads, with the caller's qualifications: callers with the same skills and
languages select the same items (queued, window open, servable by them) and share a read."""


# --- commands ----------------------------------------------------------------------------------------------

async def claim_next(svc: CallbacksService, actor: Actor) -> WorkItem | None:
    """The most urgent workable item, claimed for ``actor`` by the domain's claim; None when there is none.

    The store reads the first candidates of the inbox order and writes the first the domain accepts, guarded
    by its version. Concurrent claim-next calls of this process share their reads (``share``) and take
    distinct candidates, so they neither query once per claim nor race each other. The database is asked for
    queued items the caller can serve (``narrow``: the queue and the routing rule; the window is checked on
    the candidates read): candidates other agents' skills are needed for are never read, so an agent without
    them is answered by one read (a whole-queue read of them had cost the process a check per candidate per
    caller: 75 % of its CPU at 200 agents, half of them without the skill).
    """
    now, cmd = svc.clock(), lc.Claim(actor)

    def claim(current: Stored[WorkItem] | None) -> Change[WorkItem] | None:
        if current is None:
            return None
        return _change(current, lc.decide_claim_next(current.state, cmd, now), None)

    outcome = await svc.items.change_first(lc.claimable_by(actor, now), INBOX_ORDER, claim,
                                           share=(CLAIM_NEXT, qualifications(actor)),
                                           narrow={**QUEUED, **servable_by(actor)})
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


async def with_surviving_candidates(svc: CallbacksService, items: Sequence[WorkItem]) -> list[WorkItem]:
    """The items as shown: the candidates of one not identified answer a merged account as the account it was
    merged into, each once (read from the merge records, not stored: the unmerge restores them)."""
    named = sorted({c for item in items if item.account_id is None for c in item.candidates})
    merged = await svc.accounts.surviving(named) if named else {}
    if not merged:
        return list(items)
    return [replace(item, candidates=tuple(dict.fromkeys(merged.get(c, c) for c in item.candidates)))
            if item.account_id is None else item for item in items]


async def general_inbox(svc: CallbacksService, actor: Actor, limit: int,
                        after: InboxPosition | None) -> list[WorkItem]:
    """The workable items ``actor`` can serve (an agent sees what claim-next would offer them; a supervisor
    sees every workable item)."""
    return await svc.queries.page(lc.claimable_by(actor, svc.clock()), limit, after)


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


