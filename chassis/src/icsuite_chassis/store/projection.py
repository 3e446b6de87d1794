"""The projection writer: read models fed from topics, each event applied once, rebuilt without loss.

A projection is a collection of typed documents that events change; ``project(state, envelope)`` (pure)
answers the new state or ``None`` for "no change", ``key(envelope)`` the document an event changes. The
writer applies a batch through the aggregate store (one read, one guarded write per document, the event
id recorded in the same write), so redelivered events have no second effect and replicas never lose an
update.

**Rebuild.** :meth:`ProjectionWriter.rebuild` replays the source topic into a shadow collection and
swaps it in, while the live consumers keep running:

1. a control document (``_projections``, one per projection) names the shadow; from then on every
   writer that applies a batch also applies it to the shadow (it reads the control document once per
   batch, after the batch was fetched);
2. the replay reads every partition up to the end offsets it sees *after* step 1, so each event is
   either replayed (it was on the topic then) or applied live to both collections (it came later);
3. the correction log is folded into the shadow in order (see "Corrections" below);
4. the shadow is renamed over the live collection and the control document is cleared.

Both paths apply events idempotently, so an event that arrives by both has one effect. The two paths
can reach a document in different orders during the rebuild, so a rebuildable projection's
``project`` must give the same state whatever the order of one document's events (counters, sets,
"closed wins", "newest time wins").

**Corrections** (:mod:`.corrections`). What the topic does not carry, :meth:`forget` (retention purged
the source) and :meth:`assign` (a merge moved documents to another account), is written to the
projection's correction log before it is applied, live and to a shadow. What a live batch wrote for a
forgotten id is deleted again (a late event does not bring a purged entry back), the replay skips such
events, and a rebuild folds the log in order into the shadow after its replay (step 3), so it reproduces
the live read model, not the topic's.
A projection whose documents must stay changed by something else that is kept durably (an erased
account's notes, by the service's erasure marker) names a ``settle`` function: the writer runs it after
every change it makes, live and in a shadow, and on the whole shadow after the fold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Generic

from icsuite_contracts.cloudevents import Envelope
from pymongo.asynchronous.database import AsyncDatabase

from ..mongo import IndexSpec, ensure_indexes
from .base import AggregateStore
from .core import Change, Codec, Item, Outcome, S, Stored
from .corrections import (ASSIGN, CORRECTION_INDEXES, CORRECTIONS, FORGET, Correction, CorrectionCodec, CorrectionLog,
                          fold)
from .mongo import MongoAggregateStore, store_indexes

CONTROL = "_projections"
Project = Callable[["S | None", Envelope], "S | None"]
Replay = Callable[[], AsyncIterator[Sequence[Envelope]]]
Settle = Callable[[AggregateStore[Any], "Sequence[Any] | None"], Awaitable[Any]]
"""What must hold of some documents (``None``: all) whatever the events said, e.g. an erased account's
notes stay erased; run on each collection the writer changed, after its change."""


@dataclass(frozen=True)
class RebuildReport:
    projection: str
    shadow: str
    events: int
    documents: int
    corrections: int = 0


def _decision(project: Project[S], envelope: Envelope) -> Callable[[Stored[S] | None], Change[S] | None]:
    def decide(current: Stored[S] | None) -> Change[S] | None:
        state = project(current.state if current is not None else None, envelope)
        return Change(state) if state is not None else None

    return decide


class ProjectionWriter(Generic[S]):
    def __init__(self, db: AsyncDatabase[dict[str, Any]], name: str, codec: Codec[S], project: Project[S],
                 key: Callable[[Envelope], Any], *, indexes: Sequence[IndexSpec] = (), settle: Settle | None = None):
        self._db = db
        self._settle = settle
        self.name = name
        self._codec = codec
        self._project = project
        self._key = key
        self._indexes = list(indexes)
        self.store: MongoAggregateStore[S] = MongoAggregateStore(db, name, codec)
        self.corrections = CorrectionLog(MongoAggregateStore(db, CORRECTIONS, CorrectionCodec()), name)

    def indexes(self, collection: str | None = None) -> list[IndexSpec]:
        """The projection's own indexes and the store's, on ``collection`` (the live one by default, which
        also gets the correction log's)."""
        target = collection or self.name
        own = [IndexSpec(target, spec.keys, unique=spec.unique, options=spec.options) for spec in self._indexes]
        log = [] if collection else [*CORRECTION_INDEXES, *store_indexes(CORRECTIONS)]
        return own + store_indexes(target) + log

    async def apply(self, envelopes: Sequence[Envelope]) -> list[Outcome[S]]:
        """Apply ``envelopes`` in order (those ``key`` answers ``None`` for are skipped), then the corrections
        that name the batch's ids (checked after the write, so one recorded meanwhile is seen: either it was
        applied after this write, or its log entry is read here):
        - documents of a forgotten id that the batch wrote are deleted again;
        - an assignment recorded after an event of the batch was made is applied again over what that event
          wrote (an event made before a merge, projected after the merge moved its entry, would otherwise put
          the entry back on the merged account for good); events made after it already carry its value."""
        items = self._items(envelopes)
        if not items:
            return []
        stores = await self._stores()
        doc_ids = [item.doc_id for item in items]
        outcomes = await self.store.change_many(items)
        await self._settled(self.store, doc_ids)
        for shadow in stores[1:]:
            await shadow.change_many(items)
            await self._settled(shadow, doc_ids)
        corrections = await self.corrections.naming(set(doc_ids))
        if forgotten := {i for c in corrections if c.kind == FORGET for i in c.ids} & set(doc_ids):
            for store in stores:
                await store.purge({"_id": {"$in": sorted(forgotten)}}, limit=len(forgotten))
        if late := self._late_assignments(envelopes, corrections, forgotten):
            for store in stores:
                await fold(store, late)
                await self._settled(store, sorted({i for c in late for i in c.ids}))
        return outcomes

    def _late_assignments(self, envelopes: Sequence[Envelope], corrections: Sequence[Correction],
                          forgotten: set[Any]) -> list[Correction]:
        """The assignments, in order, each narrowed to the batch's ids whose last event in the batch was made
        before it (a later event was made from a record the assignment had already reached)."""
        made: dict[Any, datetime] = {}
        for envelope in envelopes:
            if (doc_id := self._key(envelope)) is not None and doc_id not in forgotten:
                made[doc_id] = max(made.get(doc_id, envelope.time), envelope.time)
        late = []
        for correction in corrections:
            ids = tuple(i for i in correction.ids if i in made and made[i] < correction.at)
            if correction.kind == ASSIGN and ids:
                late.append(replace(correction, ids=ids))
        return late

    async def assign(self, doc_ids: Sequence[Any], field: str, value: Any) -> None:
        """Set ``field`` of the existing documents of ``doc_ids`` to ``value`` (a plain value MongoDB stores,
        e.g. the account a merge moved them to), recorded in the correction log first, then applied live
        and in a shadow."""
        if not doc_ids:
            return
        correction = await self.corrections.record(ASSIGN, doc_ids, field, value)
        for store in await self._stores():
            await fold(store, [correction])
            await self._settled(store, doc_ids)

    async def settle(self, doc_ids: Sequence[Any]) -> None:
        """Run the projection's ``settle`` on ``doc_ids``, live and in a shadow (after what it keeps changed)."""
        for store in await self._stores():
            await self._settled(store, doc_ids)

    async def forget(self, doc_ids: Sequence[Any]) -> int:
        """Delete the read model's documents of ``doc_ids`` (their source was purged), live and in a shadow;
        recorded in the correction log first, so no later event or rebuild brings them back."""
        if not doc_ids:
            return 0
        await self.corrections.record(FORGET, doc_ids)
        by_id = {"_id": {"$in": list(doc_ids)}}
        shadow = await self._shadow()
        if shadow is not None:
            await MongoAggregateStore(self._db, shadow, self._codec).purge(by_id, limit=len(doc_ids))
        return len(await self.store.purge(by_id, limit=len(doc_ids)))

    async def rebuild(self, replay: Replay, *, shadow: str | None = None) -> RebuildReport:
        """Replay into a shadow collection and swap it in, losing no event applied meanwhile (see above)."""
        target = shadow or f"{self.name}__rebuild_{datetime.now(UTC):%Y%m%d%H%M%S%f}"
        await self._db[target].drop()
        await ensure_indexes(self._db, self.indexes(target))
        control = self._db[CONTROL]
        await control.update_one({"_id": self.name}, {"$set": {"shadow": target}}, upsert=True)
        events = 0
        try:
            writer = MongoAggregateStore(self._db, target, self._codec)
            async for batch in replay():
                if items := await self._not_forgotten(self._items(batch)):
                    await writer.change_many(items)
                events += len(batch)
            corrections = await fold(writer, await self.corrections.in_order())
            await self._settled(writer, None)
            await self._db.client.admin.command("renameCollection", f"{self._db.name}.{target}",
                                                to=f"{self._db.name}.{self.name}", dropTarget=True)
        finally:
            await control.delete_one({"_id": self.name})
        return RebuildReport(self.name, target, events, await self._db[self.name].count_documents({}), corrections)

    def _items(self, envelopes: Sequence[Envelope]) -> list[Item[S]]:
        return [Item(doc_id, _decision(self._project, envelope), envelope.id)
                for envelope in envelopes if (doc_id := self._key(envelope)) is not None]

    async def _not_forgotten(self, items: list[Item[S]]) -> list[Item[S]]:
        forgotten = await self.corrections.forgotten({item.doc_id for item in items})
        return [item for item in items if item.doc_id not in forgotten]

    async def _stores(self) -> list[MongoAggregateStore[S]]:
        shadow = await self._shadow()
        return [self.store, *([MongoAggregateStore(self._db, shadow, self._codec)] if shadow else [])]

    async def _settled(self, store: AggregateStore[S], doc_ids: Sequence[Any] | None) -> None:
        if self._settle is not None and (doc_ids is None or doc_ids):
            await self._settle(store, doc_ids)

    async def _shadow(self) -> str | None:
        control = await self._db[CONTROL].find_one({"_id": self.name})
        return control.get("shadow") if control else None
