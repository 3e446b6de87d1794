"""Commands on work items (claim, start, fail, release, complete, cancel) and the inbox queries."""

from __future__ import annotations

from icsuite_contracts import callbacks_v1 as ev
from icsuite_contracts.cloudevents import derive_event_id

from ..domain import Actor, NotOwner, WorkItem
from ..domain import lifecycle as lc
from ..domain.model import DialChoice
from ..repository import InboxPosition
from .support import ConcurrentChange, Deps, ItemNotFound, envelope, transition

CLAIM_TRIES = 100
"""Stale entries one claim-next skips before it answers 409 (each is removed as it is skipped)."""


async def get_callback(deps: Deps, callback_id: str) -> WorkItem:
    item = await deps.items.get(callback_id)
    if item is None:
        raise ItemNotFound(f"no callback {callback_id}")
    return item


async def claim_next(deps: Deps, actor: Actor) -> WorkItem | None:
    """The most urgent workable item of the general inbox, now in the actor's inbox; None when there is none.

    Take the most urgent claimable entry, then claim its item with one write guarded by the entry's version
    (which pins ``queued`` and the window the take checked; one claim wins it), the claimed event in that
    same write. If the item changed meanwhile, the entry was stale: put a fresh one back if the item is
    queued still, try the next.
    """
    for _ in range(CLAIM_TRIES):
        taken = await deps.items.take_claimable(deps.clock)
        if taken is None:
            return None
        now = taken.taken_at
        event_id = derive_event_id(taken.callback_id, f"v{taken.version}:0:{ev.CallbackClaimed.ce_type}")
        event = envelope(ev.CallbackClaimed(callback_id=taken.callback_id, request_id=taken.request_id,
                                            account_id=taken.account_id, at=now, agent_id=actor.id),
                         id=event_id, request_id=taken.request_id, cause=None)
        item = await deps.items.claim_taken(taken, actor.id, now, [event])
        if item is not None:
            deps.kick(item.callback_id)
            return item
        await deps.items.reoffer(taken.callback_id)
    raise ConcurrentChange("the general inbox kept changing under this claim; try again")


async def claim(deps: Deps, callback_id: str, actor: Actor) -> WorkItem:
    return await transition(deps, callback_id, lambda item: lc.claim(item, actor, deps.clock()))


async def start(deps: Deps, callback_id: str, actor: Actor, dial: DialChoice) -> WorkItem:
    return await transition(deps, callback_id, lambda item: lc.start(item, actor, dial, deps.clock()))


async def fail(deps: Deps, callback_id: str, actor: Actor, retain: bool, reason: str | None) -> WorkItem:
    return await transition(deps, callback_id, lambda item: lc.fail(item, actor, retain, reason, deps.clock()))


async def release(deps: Deps, callback_id: str, actor: Actor) -> WorkItem:
    return await transition(deps, callback_id, lambda item: lc.release(item, actor, deps.clock()))


async def complete(deps: Deps, callback_id: str, actor: Actor, outcome: str) -> WorkItem:
    return await transition(deps, callback_id, lambda item: lc.complete(item, actor, outcome, deps.clock()))


async def cancel(deps: Deps, callback_id: str, actor: Actor, reason: str | None) -> WorkItem:
    return await transition(deps, callback_id, lambda item: lc.cancel(item, actor, reason, deps.clock()))


async def general_inbox(deps: Deps, limit: int, after: InboxPosition | None) -> list[WorkItem]:
    return await deps.items.general_inbox(deps.clock(), limit, after)


async def agent_inbox(deps: Deps, agent_id: str, actor: Actor, limit: int,
                      after: InboxPosition | None) -> list[WorkItem]:
    if agent_id != actor.id and not actor.supervisor:
        raise NotOwner("an agent sees only their own inbox; a supervisor sees every agent's")
    return await deps.items.agent_inbox(agent_id, limit, after)
