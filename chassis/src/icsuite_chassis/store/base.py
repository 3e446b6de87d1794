"""The read → decide → write loop shared by every backend of the aggregate store (see :mod:`.core`)."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Generic

from ..logging import get_logger
from . import first as _first
from .matching import matches
from .together import Together
from .core import (
    APPLIED_FIELD,
    APPLIED_KEEP,
    OUTBOX_FIELD,
    VERSION_FIELD,
    Change,
    Codec,
    Decide,
    Item,
    Outcome,
    S,
    StoreConflict,
    Stored,
    Write,
    _Doc,
    back_off,
    outbox_entries,
)

_log = get_logger(__name__)
DEFAULT_ATTEMPTS = 8
NOTHING_WAITING = {"$or": [{OUTBOX_FIELD: {"$exists": False}}, {OUTBOX_FIELD: {"$size": 0}}]}
"""A document whose outbox is empty: every event of its changes was published."""


class AggregateStore(abc.ABC, Generic[S]):
    """Load, decide, save: typed states in one collection, guarded by one integer version.

    ``kick(collection, doc_id)`` is called after a write that put events in a document's outbox (the
    runtime's ``kick_outbox``, so the relay publishes them at once). ``queue``: the equality filter of the
    collection's claim queue (``change_first``'s ``narrow``), whose mark this store raises (see :mod:`.first`).
    """

    def __init__(self, name: str, codec: Codec[S], *, kick: Callable[[str, Any], None] | None = None,
                 attempts: int = DEFAULT_ATTEMPTS, queue: Mapping[str, Any] | None = None):
        self.name = name
        self.codec = codec
        self._kick = kick
        self._attempts = attempts
        self.before_write: Callable[[], Awaitable[None]] | None = None  # a test seam: runs before each write
        self._first_queues: dict[Hashable, _first.Queue] = {}
        self._together: Together[S] = Together()
        self._queue = dict(queue) if queue is not None else None

    # --- what a backend provides ---------------------------------------------------------------------
    @abc.abstractmethod
    async def _read(self, ids: Sequence[Any]) -> dict[Any, dict[str, Any]]:
        """The raw documents of ``ids`` that exist (with ``_version`` and ``_applied``)."""

    @abc.abstractmethod
    async def _write(self, writes: Sequence[Write]) -> set[Any]:
        """Perform the guarded writes; answer the ids of those that lost their race."""

    @abc.abstractmethod
    async def _find(self, filter: Mapping[str, Any], sort: Sequence[tuple[str, int]],
                    limit: int) -> list[dict[str, Any]]:
        """The raw documents matching ``filter`` (fields of the encoded state), in ``sort`` order."""

    @abc.abstractmethod
    async def _delete(self, ids: Sequence[Any], guard: Mapping[str, Any]) -> set[Any]:
        """Delete the documents of ``ids`` that still match ``guard``; answer the ids deleted."""

    @abc.abstractmethod
    async def _read_mark(self) -> int:
        """The mark of this collection's claim queue (0 before its first raise)."""

    @abc.abstractmethod
    async def raise_mark(self) -> None:
        """Raise the mark of this collection's claim queue: a document entered it or changed in it. The store
        does it after its own writes; whoever writes the collection past the store must call it too."""

    @abc.abstractmethod
    async def count_by(self, filter: Mapping[str, Any], keys: Sequence[str], *,
                       unwind: str | None = None) -> dict[tuple[Any, ...], int]:
        """How many documents match ``filter``, per combination of the values of ``keys`` (a missing field
        counts as ``None``); with ``unwind`` (a list field among ``keys``), a document counts once per element
        of that list and not at all when it is empty. For reports: the database counts, nothing is read."""

    # --- the one way to change a document --------------------------------------------------------------
    async def get(self, doc_id: Any) -> Stored[S] | None:
        raw = (await self._read([doc_id])).get(doc_id)
        return self._stored(_Doc.of(doc_id, raw)) if raw is not None else None

    async def get_many(self, doc_ids: Sequence[Any]) -> dict[Any, Stored[S]]:
        """The documents of ``doc_ids`` that exist, by id, in one read (``_id $in``)."""
        unique_ids = list(dict.fromkeys(doc_ids))
        raw = await self._read(unique_ids) if unique_ids else {}
        return {doc_id: self._stored(_Doc.of(doc_id, raw[doc_id])) for doc_id in unique_ids if doc_id in raw}

    async def find(self, filter: Mapping[str, Any], *, limit: int = 1000) -> list[Stored[S]]:
        """The documents matching ``filter`` (fields of the encoded state), by ``_id``, at most ``limit``:
        to select what a change then goes through :meth:`change_many` for (an erasure, a purge)."""
        return [self._stored(_Doc.of(raw["_id"], raw)) for raw in await self._find(filter, [("_id", 1)], limit)]

    async def change(self, doc_id: Any, decide: Decide[S], *, event_id: str | None = None) -> Outcome[S]:
        """Apply one decision to one document (created when ``decide`` answers a change for ``None``)."""
        return (await self.change_many([Item(doc_id, decide, event_id)]))[0]

    async def change_together(self, doc_id: Hashable, decide: Decide[S]) -> Outcome[S]:
        """:meth:`change` for a hot document: callers of this process waiting for the same document are
        served by one read and one write, their decisions applied in arrival order (see :mod:`.together`).
        An exception ``decide`` raises reaches its own caller only."""
        return await self._together.change(self.change_many, doc_id, decide)

    async def change_many(self, items: Sequence[Item[S]]) -> list[Outcome[S]]:
        """Apply a batch: one read, the decisions in order (chained per document), one write per document."""
        outcomes: list[Outcome[S] | None] = [None] * len(items)
        pending = list(range(len(items)))
        for attempt in range(self._attempts):
            if attempt:
                await back_off(attempt)
            docs = {doc_id: _Doc.of(doc_id, raw) for doc_id, raw in
                    (await self._read_all(list(dict.fromkeys(items[i].doc_id for i in pending)))).items()}
            planned = {i: self._plan(docs[items[i].doc_id], items[i]) for i in pending}
            writes = [self._write_of(doc) for doc in docs.values() if doc.touched]
            lost = await self._guarded_write(writes) if writes else set()
            await self._raise_for(docs.values(), lost)
            for i, outcome in planned.items():
                if items[i].doc_id not in lost:
                    outcomes[i] = outcome
            self._kick_written(writes, lost)
            pending = [i for i in pending if items[i].doc_id in lost]
            if not pending:
                return [outcome for outcome in outcomes if outcome is not None]
        raise StoreConflict(f"{len(pending)} changes of {self.name} kept losing their race "
                            f"after {self._attempts} attempts")

    async def change_first(self, filter: Mapping[str, Any], sort: Sequence[tuple[str, int]],
                           decide: Decide[S], *, candidates: int = 16, share: Hashable | None = None,
                           narrow: Mapping[str, Any] | None = None) -> Outcome[S] | None:
        """Change the first document matching ``filter`` (in ``sort`` order) that ``decide`` accepts.

        For "claim the next": candidates are read in a round; one that another writer took meanwhile loses
        its race and the next candidate is tried, so contention costs a write, not a new read. Callers that
        pass the same ``share`` key (and filters that select the same documents up to bounds in time) share
        their reads: see :mod:`.first`. ``None`` when no candidate is left that ``decide`` accepts.

        ``narrow``: the part of ``filter`` the database is asked (e.g. ``{"status": "queued"}``); the rest is
        checked here on the candidates read, with the in-memory backend's matcher - a trick for the local
        MongoDB-wire server, which ignores non-unique indexes and scans and sorts on every such read (on
        MongoDB one compound index serves both). A ``narrow`` within the store's ``queue`` reads through the
        queue's head. Put in ``narrow`` what would refuse many candidates (a caller's skills).
        """
        want, counted, taken = candidates, 0, _first.Taken()
        for _ in range(2 * self._attempts):
            if counted >= self._attempts:
                break
            if counted and taken.lost:
                await back_off(counted)
            asked = filter if narrow is None else narrow
            if share is None:
                queue, cached = _first.Queue(), None
                found = _first.own_round(await self._find(asked, sort, want), want)
            else:
                queue = self._first_queues.setdefault(share, _first.Queue())
                marked = _first.within(narrow, self._queue)
                cached = queue.head
                found = await queue.read(self._find, asked, sort, want, self._read_mark if marked else None)
            taken = await self._take_first(found, queue, decide, None if narrow is None else filter)
            if taken.outcome is not None:
                return taken.outcome  # type: ignore[no-any-return]
            if not (taken.lost or taken.passed):
                if found.complete:
                    return None
                want *= 4  # every candidate read was refused: read further next time
            # Only a write this caller lost on a read made for it counts as an attempt. Candidates passed
            # because callers of this process were writing them (or wrote them since the read) lose nothing:
            # the caller waits for those writes and the next round reads afresh (CI of 01232cf: a whole-queue
            # head whose last candidates this process had written was served round after round).
            if taken.passed:
                await queue.settled(taken.passed)
                queue.lost(found)
            counted += 1 if taken.lost and found is not cached else 0
        if taken.lost or taken.passed:
            raise StoreConflict(f"no candidate of {self.name} could be changed after {self._attempts} attempts")
        return None

    async def _take_first(self, found: _first.Round, queue: _first.Queue, decide: Decide[S],
                          check: Mapping[str, Any] | None) -> _first.Taken:
        """Try the round's candidates in order: the outcome of the first written, or what kept the caller from one."""
        taken = _first.Taken()
        for raw in found.docs:
            doc_id = raw["_id"]
            if doc_id in found.gone:
                continue
            if doc_id in queue.writing or queue.stale(raw):  # another caller of this process has it
                taken.passed.add(doc_id)
                continue
            if check is not None and not matches(raw, check):  # outside the caller's filter: left for others
                continue
            doc = _Doc.of(doc_id, raw)
            outcome = self._plan(doc, Item(doc_id, decide))
            if not doc.touched:
                continue
            write = self._write_of(doc)
            done = queue.begin(doc_id)
            try:
                lost = await self._guarded_write([write])
            finally:
                queue.end(doc_id, done)
            found.gone.add(doc_id)
            queue.wrote(raw)
            if not lost:
                await self._raise_for([doc], lost)
                self._kick_written([write], set())
                taken.outcome = outcome
                return taken
            queue.lost(found)
            taken.lost = True
        return taken

    async def purge(self, filter: Mapping[str, Any], *, limit: int,
                    before_delete: Callable[[list[Any]], Awaitable[Any]] | None = None) -> list[Any]:
        """Delete up to ``limit`` documents matching ``filter`` that have no event waiting to be published
        (retention: only whole records that are done go). The filter is checked again by the delete
        itself, so a document changed meanwhile so that it no longer matches stays. Answers the ids deleted.

        ``before_delete`` gets the ids about to be deleted first (what refers to them goes before they do):
        a crash between the two then leaves the records, which the next round finds and purges again,
        never references to records that are gone.
        """
        found = [raw["_id"] for raw in await self._find({"$and": [dict(filter), NOTHING_WAITING]},
                                                         [("_id", 1)], limit)]
        if not found:
            return []
        if before_delete is not None:
            await before_delete(found)
        deleted = await self._delete(found, {"$and": [dict(filter), NOTHING_WAITING]})
        return [doc_id for doc_id in found if doc_id in deleted]

    # --- internals ------------------------------------------------------------------------------------
    async def _guarded_write(self, writes: Sequence[Write]) -> set[Any]:
        if self.before_write is not None:
            await self.before_write()
        return await self._write(writes)

    async def _read_all(self, ids: list[Any]) -> dict[Any, dict[str, Any] | None]:
        found = await self._read(ids)
        return {doc_id: found.get(doc_id) for doc_id in ids}

    async def _raise_for(self, docs: Iterable[_Doc], lost: set[Any]) -> None:
        """Raise the queue's mark once when a written document is in the queue after its write."""
        if self._queue is not None and any(doc.touched and doc.doc_id not in lost and matches(doc.fields, self._queue)
                                           for doc in docs):
            try:
                await self.raise_mark()
            except Exception as exc:  # the write stands; heads are read again after HEAD_MAX_AGE_S anyway
                _log.warning("store.queue_mark_failed", collection=self.name, error=str(exc))

    def _stored(self, doc: _Doc) -> Stored[S]:
        return Stored(doc.doc_id, self.codec.decode(doc.fields), doc.version or 0)

    def _current(self, doc: _Doc) -> Stored[S] | None:
        """The state the next decision of a batch sees: the document decoded once, then each change's new
        state as it is (encoded once, when the document is written: :meth:`_write_of`)."""
        if not (doc.exists or doc.touched):
            return None
        if not doc.decoded:
            doc.state, doc.decoded = self.codec.decode(doc.fields), True
        return Stored(doc.doc_id, doc.state, doc.version or 0)

    def _plan(self, doc: _Doc, item: Item[S]) -> Outcome[S]:
        current = self._current(doc)
        if item.event_id is not None and item.event_id in doc.applied:
            return Outcome(current, duplicate=True)
        change: Change[S] | None = item.decide(current)
        if change is None:
            return Outcome(current)
        entries = outbox_entries(change.events)
        doc.state, doc.decoded = change.state, True
        doc.new_outbox.extend(entries)
        if item.event_id is not None:
            doc.applied.add(item.event_id)
            doc.new_applied.append(item.event_id)
        doc.touched = True
        stored = Stored(doc.doc_id, change.state, (doc.version or 0) + 1)
        return Outcome(stored, tuple(change.events), changed=True)

    def _write_of(self, doc: _Doc) -> Write:
        """The guarded write of a document the batch changed: its last state encoded, once."""
        doc.fields = self.codec.encode(doc.state)
        return doc.write()

    def _kick_written(self, writes: Sequence[Write], lost: set[Any]) -> None:
        if self._kick is None:
            return
        for write in writes:
            if write.outbox and write.doc_id not in lost:
                self._kick(self.name, write.doc_id)

