"""What identity's caller-identified said per request id, whether it came before or after the request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from icsuite_chassis.store import AggregateStore, Change, InMemoryAggregateStore, Item, Stored
from icsuite_chassis.store.projection import ProjectionWriter
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.identity_v1 import CallerIdentified
from pymongo.asynchronous.database import AsyncDatabase

from ..domain import CallerIdentity
from ..repository import IDENTIFICATIONS, IdentityCodec


def project(current: CallerIdentity | None, envelope: Envelope) -> CallerIdentity | None:
    """The latest answer for the request (identity answers once per request; a repeat says the same)."""
    event = envelope.data
    if not isinstance(event, CallerIdentified):
        return None
    return CallerIdentity(account_id=event.account_id, candidates=tuple(event.candidates),
                          looked_up_number=event.callback_number)


def key(envelope: Envelope) -> Any:
    return envelope.data.request_id if isinstance(envelope.data, CallerIdentified) else None


def _decision(envelope: Envelope) -> Callable[[Stored[CallerIdentity] | None], Change[CallerIdentity] | None]:
    def decide(current: Stored[CallerIdentity] | None) -> Change[CallerIdentity] | None:
        state = project(current.state if current else None, envelope)
        return Change(state) if state is not None else None

    return decide


class Identifications:
    """The projection ``caller_identifications`` (one document per request id)."""

    def __init__(self, store: AggregateStore[CallerIdentity], writer: ProjectionWriter[CallerIdentity] | None = None):
        self.store = store
        self._writer = writer

    @classmethod
    def on_mongo(cls, db: AsyncDatabase[dict[str, Any]]) -> Identifications:
        writer = ProjectionWriter(db, IDENTIFICATIONS, IdentityCodec(), project, key)
        return cls(writer.store, writer)

    @classmethod
    def in_memory(cls) -> Identifications:
        return cls(InMemoryAggregateStore(IDENTIFICATIONS, IdentityCodec()))

    def indexes(self) -> list[Any]:
        return self._writer.indexes() if self._writer is not None else []

    async def apply(self, envelopes: Sequence[Envelope]) -> None:
        """Apply a consumer batch (one read and one write per document; a redelivered event changes nothing)."""
        if self._writer is not None:
            await self._writer.apply(envelopes)
            return
        await self.store.change_many([Item(key(e), _decision(e), e.id) for e in envelopes if key(e) is not None])

    async def forget(self, request_ids: Sequence[str]) -> None:
        """Drop the identifications of purged requests."""
        if self._writer is not None:
            await self._writer.forget(request_ids)
        elif request_ids:
            await self.store.purge({"_id": {"$in": list(request_ids)}}, limit=len(request_ids))

    async def get(self, request_id: str) -> CallerIdentity | None:
        stored = await self.store.get(request_id)
        return stored.state if stored is not None else None
