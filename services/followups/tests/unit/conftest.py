"""The service wired on the chassis's in-memory store, for handler unit tests (no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncio

import pytest
from icsuite_chassis.store import Change, InMemoryAggregateStore, Item, Stored
from icsuite_chassis.store.matching import matches
from icsuite_chassis.testing import SettableClock
from icsuite_contracts.cloudevents import Envelope

from icsuite_followups.erased_accounts import ERASED_ACCOUNTS, ErasedAccountCodec, sources_settle
from icsuite_followups.handlers import Service
from icsuite_followups.projections.interaction_sources import (
    INTERACTION_SOURCES,
    InteractionSourceCodec,
    interaction_of,
    project,
)
from icsuite_followups.repository import (
    CUSTOMIZING,
    FOLLOWUPS,
    CopyRulesCodec,
    FollowupCodec,
    TypeRulesCodec,
    awaiting_copy_filter,
)
from icsuite_followups.settings import FollowupsSettings

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class InMemoryReads:
    """The read queries over the in-memory documents, with the same filters as on MongoDB."""

    def __init__(self, store: InMemoryAggregateStore[Any]):
        self._store = store

    async def awaiting_copy(self, interaction_ids: list[str], limit: int) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        docs = [doc for doc in self._store.documents.values() if matches(doc, awaiting_copy_filter(interaction_ids))]
        for doc in docs[:limit]:
            found.setdefault(doc["source"]["id"], []).append(doc["_id"])
        return found


class InMemoryProjection:
    """What the projection writer does, on the in-memory store: each event applied once, in order, then its
    ``settle`` on the documents it changed."""

    def __init__(self, settle: Any = None) -> None:
        self.store = InMemoryAggregateStore(INTERACTION_SOURCES, InteractionSourceCodec())
        self._settle = settle

    async def apply(self, envelopes: Sequence[Envelope]) -> list[Any]:
        items = [Item(key, self._decision(e), e.id) for e in envelopes if (key := interaction_of(e)) is not None]
        outcomes = await self.store.change_many(items) if items else []
        await self.settle([item.doc_id for item in items])
        return outcomes

    async def settle(self, doc_ids: Sequence[Any] | None) -> None:
        if self._settle is not None and (doc_ids is None or doc_ids):
            await self._settle(self.store, doc_ids)

    @staticmethod
    def _decision(envelope: Envelope) -> Any:
        def decide(current: Stored[Any] | None) -> Change[Any] | None:
            state = project(current.state if current else None, envelope)
            return Change(state) if state is not None else None

        return decide


def in_memory_service(clock: SettableClock | None = None, **settings: Any) -> Service:
    followups = InMemoryAggregateStore(FOLLOWUPS, FollowupCodec())
    marks = InMemoryAggregateStore(ERASED_ACCOUNTS, ErasedAccountCodec())
    return Service(
        followups=followups, type_rules=InMemoryAggregateStore(CUSTOMIZING, TypeRulesCodec()),
        copy_rules=InMemoryAggregateStore(CUSTOMIZING, CopyRulesCodec()), reads=InMemoryReads(followups),  # type: ignore[arg-type]
        interactions=InMemoryProjection(sources_settle(marks)),  # type: ignore[arg-type]
        settings=FollowupsSettings(environment="test", **settings), clock=clock or SettableClock(START),
        erased_accounts=marks)


class LostRaces:
    """Makes the replicas' follow-up writes interleave (each reads, lets the others run, then writes) and
    counts the writes that lost their race (each is decided again on a fresh read)."""

    def __init__(self, *services: Service):
        self.count = 0
        for service in services:
            self._watch(service.followups)  # type: ignore[arg-type]

    def _watch(self, store: InMemoryAggregateStore[Any]) -> None:
        write = store._write

        async def counted(writes: Any) -> set[Any]:
            lost = await write(writes)
            self.count += len(lost)
            return lost

        store._write = counted  # type: ignore[method-assign]
        store.before_write = lambda: asyncio.sleep(0)


def replica_of(svc: Service) -> Service:
    """A second replica: other store objects on the same documents."""
    followups = svc.followups.shared_with()  # type: ignore[attr-defined]
    return Service(followups=followups, type_rules=svc.type_rules.shared_with(),  # type: ignore[attr-defined]
                   copy_rules=svc.copy_rules.shared_with(), reads=InMemoryReads(followups),  # type: ignore[attr-defined]
                   interactions=svc.interactions, settings=svc.settings, clock=svc.clock,
                   erased_accounts=svc.erased_accounts.shared_with())  # type: ignore[attr-defined]


def published(svc: Service, ce_type: str | None = None) -> list[Envelope]:
    """The events waiting in the follow-ups' outboxes (taken out, as the relay would)."""
    events = svc.followups.published()  # type: ignore[attr-defined]
    return [e for e in events if ce_type is None or e.type == ce_type]


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def svc(clock: SettableClock) -> Service:
    return in_memory_service(clock)


@pytest.fixture
def outbox() -> Callable[..., list[Envelope]]:
    return published


@pytest.fixture
def replica() -> Callable[[Service], Service]:
    return replica_of


@pytest.fixture
def service_with(clock: SettableClock) -> Callable[..., Service]:
    """The in-memory service with other settings."""
    return lambda **settings: in_memory_service(clock, **settings)


@pytest.fixture
def races() -> Callable[..., LostRaces]:
    return LostRaces
