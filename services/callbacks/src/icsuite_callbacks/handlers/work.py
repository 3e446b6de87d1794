"""Commands on work items (claim, start, fail, release, complete, cancel) and the inbox queries."""

from __future__ import annotations

from dataclasses import replace

from icsuite_contracts.cloudevents import derive_event_id

from ..domain import Actor, NotOwner, WorkItem
from ..domain import lifecycle as lc
from ..domain.model import DialChoice, PendingClaim
from ..repository import InboxPosition
from .support import Deps, ItemNotFound, emit_pending_claim, transition


async def get_callback(deps: Deps, callback_id: str) -> WorkItem:
    item = await deps.items.get(callback_id)
    if item is None:
        raise ItemNotFound(f"no callback {callback_id}")
    return item


async def claim_next(deps: Deps, actor: Actor) -> WorkItem | None:
    """The most urgent workable item of the general inbox, now in the actor's inbox; None when there is none."""
    now = deps.clock()
    event_id = derive_event_id(f"claim-next:{deps.new_id()}", "claimed")
    pending = PendingClaim(event_id=event_id, agent_id=actor.id, at=now)
    item = await deps.items.claim_next(actor.id, now, {"event_id": event_id, "agent_id": actor.id, "at": now})
    if item is None:
        return None
    await emit_pending_claim(deps, replace(item, pending_claim=pending))
    return replace(item, pending_claim=None, version=item.version + 1)


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
