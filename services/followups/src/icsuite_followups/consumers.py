"""Subscribers: interaction events into the projection, then the copies they complete.

A batch is applied in one pass (one read, one write per interaction record); when it fails the chassis
hands the events one by one to the per-type handlers, each of which receives the event model it expects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from icsuite_chassis.account_merge import Movable, register_merge_consumer
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.store import AggregateStore

from icsuite_chassis.consumer import Reject
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.base import Event
from icsuite_contracts.interactions_v1 import TOPIC as INTERACTIONS_TOPIC

from .domain import Followup
from .handlers import Service, apply_interaction_events
from .projections.interaction_sources import PROJECTED_EVENTS

E = TypeVar("E", bound=Event)
Handler = Callable[[Envelope], Awaitable[None]]
TOPICS = (INTERACTIONS_TOPIC,)


def _typed(model: type[E], handle: Callable[[E, Envelope], Awaitable[None]]) -> Handler:
    """The handler of ``model``'s ``ce_type``: an envelope whose data is not that model is refused."""

    async def handler(envelope: Envelope) -> None:
        if not isinstance(envelope.data, model):
            raise Reject(f"{envelope.type} does not carry {model.__name__}")
        await handle(envelope.data, envelope)

    return handler


def interaction_handlers(svc: Service) -> dict[str, Handler]:
    """One handler per projected ``ce_type``; activity-recorded carries nothing a follow-up copies."""

    async def on_event(_: Event, envelope: Envelope) -> None:
        await apply_interaction_events(svc, [envelope])

    return {model.ce_type: _typed(model, on_event) for model in PROJECTED_EVENTS}


def interaction_batch_handler(svc: Service) -> Callable[[Sequence[Envelope]], Awaitable[None]]:
    async def on_batch(envelopes: Sequence[Envelope]) -> None:
        await apply_interaction_events(svc, envelopes)

    return on_batch


def register_merges(runtime: ServiceRuntime, svc: Service, merges: AggregateStore[Any]) -> None:
    """Merged accounts: the follow-ups follow the surviving account (their ``account_id`` party), and so does
    the projection of interactions that copying control reads (``interaction_sources``): moved by the merge
    through the store (recorded in the merge, undone by the unmerge), then through the projection writer's
    ``assign`` (its correction log, so a rebuild of the projection moves them again, in order)."""

    async def follow_sources(interaction_ids: Sequence[str], account_id: str) -> None:
        sources = await svc.interactions.store.get_many(interaction_ids)
        moved = [i for i in interaction_ids if i in sources and sources[i].state.account_id == account_id]
        await svc.interactions.assign(moved, "account_id", account_id)

    def with_account(followup: Followup, account_id: str) -> Followup:
        return replace(followup, parties={**followup.parties, "account_id": account_id})

    movable = Movable("followups", svc.followups, account_of=lambda f: f.parties.get("account_id"),
                      with_account=with_account)
    sources = Movable("interaction_sources", svc.interactions.store, after=follow_sources)
    register_merge_consumer(runtime, merges, [movable, sources], svc.clock)
