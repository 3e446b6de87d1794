"""The followups service's use cases: load, decide (the domain), save (the store, with the events in the
document's outbox). Each is a few lines; the guarantees (nothing lost, nothing doubled) are the store's."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from icsuite_chassis.clock import Clock
from icsuite_chassis.store import AggregateStore, Change, InMemoryAggregateStore, Item, Stored
from icsuite_chassis.store.projection import ProjectionWriter
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.interactions_v1 import InteractionAccountLinked, InteractionClosed, InteractionOpened, NoteAdded

from .domain import (
    DEFAULT_COPY_RULES,
    Actor,
    DEFAULT_FOLLOWUP_TYPES,
    Configured,
    CopyRules,
    CustomizingNotStored,
    Followup,
    FollowupEvent,
    FollowupNotFound,
    FollowupTypeRules,
    NewFollowup,
    Note,
    NoteDraft,
    SourceSnapshot,
    decide_append_note,
    decide_change,
    decide_complete_copy,
    decide_create,
    decide_replace_config,
    decide_seed_config,
    envelopes_for,
)
from .erased_accounts import (
    ERASED_ACCOUNTS,
    ErasedAccount,
    ErasedAccountCodec,
    keep_followups_erased,
)
from .projections.interaction_sources import InteractionSource, interaction_of
from .repository import COPY_RULES_CONFIG, FOLLOWUP_TYPES_CONFIG, FollowupReads, owned_active_filter
from .settings import FollowupsSettings

FollowupDecision = Callable[[Followup], tuple[Followup, list[FollowupEvent]]]
COPY_BATCH = 500


@dataclass
class Service:
    """The wired service: its stores, read queries, projection, settings and clock (``app.state.service``)."""

    followups: AggregateStore[Followup]
    type_rules: AggregateStore[Configured[FollowupTypeRules]]
    copy_rules: AggregateStore[Configured[CopyRules]]
    reads: FollowupReads
    interactions: ProjectionWriter[InteractionSource]
    settings: FollowupsSettings
    clock: Clock
    erased_accounts: AggregateStore[ErasedAccount] = field(
        default_factory=lambda: InMemoryAggregateStore(ERASED_ACCOUNTS, ErasedAccountCodec()))


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def decision(decide: FollowupDecision, *, required: str | None = None,
             causation_id: str | None = None) -> Callable[[Stored[Followup] | None], Change[Followup] | None]:
    """The store's decision for a domain decision on an existing follow-up: its events become envelopes.

    Nothing is written when the domain reports nothing; a missing follow-up is skipped, or 404 when it is
    the ``required`` one.
    """

    def run(current: Stored[Followup] | None) -> Change[Followup] | None:
        if current is None:
            if required is not None:
                raise FollowupNotFound(required)
            return None
        state, events = decide(current.state)
        return Change(state, envelopes_for(state, events, causation_id=causation_id)) if events else None

    return run


# --- customizing -------------------------------------------------------------------------------------------
def _config_store(svc: Service, name: str) -> AggregateStore[Configured[Any]]:
    return svc.type_rules if name == FOLLOWUP_TYPES_CONFIG else svc.copy_rules  # type: ignore[return-value]


def _seeded(defaults: Any, now: Any) -> Callable[[Stored[Configured[Any]] | None], Change[Configured[Any]] | None]:
    def decide(current: Stored[Configured[Any]] | None) -> Change[Configured[Any]] | None:
        seeded = decide_seed_config(current.state if current else None, defaults, now=now)
        return Change(seeded) if seeded is not None else None

    return decide


async def seed_customizing(svc: Service) -> None:
    """The defaults at first start (safe when several replicas start at once: one insert wins)."""
    await svc.type_rules.change(FOLLOWUP_TYPES_CONFIG, _seeded(DEFAULT_FOLLOWUP_TYPES, svc.clock()))
    await svc.copy_rules.change(COPY_RULES_CONFIG, _seeded(DEFAULT_COPY_RULES, svc.clock()))


async def read_config(svc: Service, name: str) -> Configured[Any]:
    stored = await _config_store(svc, name).get(name)
    if stored is None:
        raise CustomizingNotStored(name)
    return stored.state


async def replace_config(svc: Service, name: str, rules: Any, *, by: str,
                         expected_version: int | None) -> Configured[Any]:
    outcome = await _config_store(svc, name).change(name, lambda current: Change(decide_replace_config(
        current.state if current else None, rules, name=name, by=by, now=svc.clock(),
        expected_version=expected_version)))
    assert outcome.stored is not None
    return outcome.stored.state


async def _rules(svc: Service) -> tuple[FollowupTypeRules, CopyRules]:
    types, copying = await svc.type_rules.get(FOLLOWUP_TYPES_CONFIG), await svc.copy_rules.get(COPY_RULES_CONFIG)
    return (types.state.rules if types else DEFAULT_FOLLOWUP_TYPES,
            copying.state.rules if copying else DEFAULT_COPY_RULES)


# --- follow-ups -----------------------------------------------------------------------------------------------
async def _source(svc: Service, cmd: NewFollowup, given: SourceSnapshot) -> SourceSnapshot:
    """What is known about the source: the projection for interactions, the request for the rest."""
    if cmd.source_type != "interaction":
        return given
    projected = await svc.interactions.store.get(cmd.source_id)
    return projected.state.snapshot.overlaid_on(given) if projected else given


async def create_followup(svc: Service, cmd: NewFollowup, *, source_data: SourceSnapshot, author: str,
                          correlation_id: str | None) -> Followup:
    """Create it; a field its interaction did not know yet is copied as soon as the projection knows it."""
    type_rules, copy_rules = await _rules(svc)
    followup, events = decide_create(
        cmd, followup_id=new_id("fu"), author=author, now=svc.clock(), note_ids=[new_id("n") for _ in cmd.drafts()],
        type_rules=type_rules, copy_rules=copy_rules, source=await _source(svc, cmd, source_data),
        correlation_id=correlation_id)
    await svc.followups.change(followup.followup_id, lambda _: Change(followup, envelopes_for(followup, events)))
    if not followup.awaiting_copy:
        return (await keep_followups_erased(svc.erased_accounts, svc.followups, [followup]))[0]
    # the projection may have learned the account since it was read: the consumer can have missed this follow-up
    completed = await complete_copies(svc, followup.source_id, [followup.followup_id])
    return completed[0] if completed else followup


async def get_followup(svc: Service, followup_id: str) -> Followup:
    stored = await svc.followups.get(followup_id)
    if stored is None:
        raise FollowupNotFound(followup_id)
    return stored.state


async def change_followup(svc: Service, followup_id: str, changes: Mapping[str, Any], *, actor: Actor) -> Followup:
    outcome = await svc.followups.change(followup_id, decision(
        lambda f: decide_change(f, changes, actor=actor, now=svc.clock()), required=followup_id))
    assert outcome.stored is not None
    return (await keep_followups_erased(svc.erased_accounts, svc.followups, [outcome.stored.state]))[0]


async def add_note(svc: Service, followup_id: str, draft: NoteDraft, *, author: str) -> Note:
    note_id = new_id("n")
    outcome = await svc.followups.change(followup_id, decision(
        lambda f: decide_append_note(f, draft, note_id=note_id, author=author, now=svc.clock()),
        required=followup_id))
    assert outcome.stored is not None
    return outcome.stored.state.notes[-1]


# --- copying control completed later ----------------------------------------------------------------------------
async def complete_copies(svc: Service, interaction_id: str, followup_ids: Sequence[str], *,
                          cause_event_id: str | None = None) -> list[Followup]:
    """Copy into the follow-ups that await it what the projection of the interaction knows now.

    Safe to run again (for a redelivered event): what is copied is no longer awaited, so a second run
    writes and emits nothing. The follow-ups changed, as they are now.
    """
    projected = await svc.interactions.store.get(interaction_id)
    if projected is None:
        return []
    _, copy_rules = await _rules(svc)
    rule, source, now = copy_rules.for_source("interaction"), projected.state.snapshot, svc.clock()
    outcomes = await svc.followups.change_many([Item(fid, decision(
        lambda f: decide_complete_copy(f, rule, source, now=now), causation_id=cause_event_id))
        for fid in followup_ids])
    changed = [o.stored.state for o in outcomes if o.changed and o.stored is not None]
    return await keep_followups_erased(svc.erased_accounts, svc.followups, changed)


def tells_account(envelope: Envelope) -> bool:
    """An interaction event after which the follow-ups awaiting its account may get it."""
    data = envelope.data
    if isinstance(data, InteractionAccountLinked | InteractionClosed):
        return True
    return isinstance(data, InteractionOpened | NoteAdded) and data.account_id is not None


async def apply_interaction_events(svc: Service, envelopes: Sequence[Envelope]) -> None:
    """Project a batch of interaction events, then complete the copies they allow (also on a redelivery:
    the first delivery may have stopped between the projection and the follow-ups). One query finds the
    follow-ups awaiting any interaction of the batch."""
    await svc.interactions.apply(envelopes)  # its settle keeps erased accounts' notes erased
    causes = {interaction_id: envelope.id for envelope in envelopes
              if (interaction_id := interaction_of(envelope)) is not None and tells_account(envelope)}
    if not causes:
        return
    for interaction_id, followup_ids in (await svc.reads.awaiting_copy(list(causes), COPY_BATCH)).items():
        await complete_copies(svc, interaction_id, followup_ids, cause_event_id=causes[interaction_id])


@dataclass(frozen=True)
class OwnerWork:
    agent_id: str
    open: int
    overdue: int


async def open_followups_by_owner(svc: Service, limit: int, after: str | None) -> list[OwnerWork]:
    """Per owner (by id), her open or in-process follow-ups and how many of them are past their due time."""
    active = await svc.followups.count_by(owned_active_filter(), ["owner_id"])
    overdue = await svc.followups.count_by({**owned_active_filter(), "due_at": {"$lte": svc.clock()}}, ["owner_id"])
    owners = sorted(owner for (owner,) in active if after is None or owner > after)[:limit]
    return [OwnerWork(owner, active[(owner,)], overdue.get((owner,), 0)) for owner in owners]
