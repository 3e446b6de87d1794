"""The transactional outbox, kept inside the aggregate's own document.

A state change and the events it causes are written in one single-document update: the events are
pushed onto the document's ``_outbox`` array. The relay publishes them in order and then pulls them
by id. After a write the service *kicks* the relay so that events leave at once; a sweep at start and
every ``sweep_interval_s`` publishes whatever a crash or a Kafka outage left behind. An event that was
published but not yet pulled when a process died is published again with the same ``ce_id``, which
every consumer of the suite deduplicates, so each effect happens exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from icsuite_contracts.cloudevents import Envelope, to_document
from pymongo.asynchronous.database import AsyncDatabase

from .logging import get_logger
from .metrics import OUTBOX_PENDING

OUTBOX_FIELD = "_outbox"
_log = get_logger(__name__)


class DocumentPublisher(Protocol):
    async def publish_document(self, entry: dict[str, Any]) -> None: ...


def outbox_entries(envelopes: Iterable[Envelope]) -> list[dict[str, Any]]:
    return [to_document(envelope) for envelope in envelopes]


def outbox_push(envelopes: Iterable[Envelope]) -> dict[str, Any]:
    """An update fragment that stores ``envelopes`` in the document's outbox."""
    entries = outbox_entries(envelopes)
    return {"$push": {OUTBOX_FIELD: {"$each": entries}}} if entries else {}


class OutboxRelay:
    """Publishes the outbox entries of the registered collections; safe to run in every replica."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], collections: Sequence[str],
                 publisher: DocumentPublisher, *, sweep_interval_s: float = 10.0, concurrency: int = 16):
        self._db = db
        self._collections = tuple(collections)
        self._publisher = publisher
        self._sweep_interval_s = sweep_interval_s
        self._kicked: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._pending: set[tuple[str, Any]] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: list[asyncio.Task[None]] = []
        self._doc_locks: dict[tuple[str, Any], list[Any]] = {}  # [lock, users] per document

    def kick(self, collection: str, doc_id: Any) -> None:
        """Ask the relay to publish the outbox of one document now (never blocks)."""
        ref = (collection, doc_id)
        if ref not in self._pending:
            self._pending.add(ref)
            self._kicked.put_nowait(ref)

    async def flush(self, collection: str, doc_id: Any) -> int:
        """Publish the outbox of one document in order and pull what was published.

        Flushes of one document run one after the other (a kick during a flush or a sweep waits), so
        this process never publishes an entry twice or out of order.
        """
        ref = (collection, doc_id)
        entry = self._doc_locks.setdefault(ref, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                return await self._flush_one(collection, doc_id)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._doc_locks[ref]

    async def _flush_one(self, collection: str, doc_id: Any) -> int:
        async with self._slots:
            doc = await self._db[collection].find_one({"_id": doc_id}, {OUTBOX_FIELD: 1})
            entries = (doc or {}).get(OUTBOX_FIELD) or []
            published: list[str] = []
            try:
                for entry in entries:
                    await self._publisher.publish_document(entry)
                    published.append(entry["id"])
            finally:
                if published:
                    await self._db[collection].update_one(
                        {"_id": doc_id}, {"$pull": {OUTBOX_FIELD: {"id": {"$in": published}}}})
            return len(published)

    async def sweep(self) -> int:
        """Publish every pending outbox entry of every registered collection."""
        total = 0
        for collection in self._collections:
            cursor = self._db[collection].find({f"{OUTBOX_FIELD}.0": {"$exists": True}}, {"_id": 1})
            ids = [doc["_id"] async for doc in cursor]
            OUTBOX_PENDING.labels(collection).set(len(ids))
            results = await asyncio.gather(*(self.flush(collection, i) for i in ids), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    _log.warning("outbox flush failed; the next sweep retries", error=repr(result))
                else:
                    total += result
        return total

    async def _drain_kicks(self) -> None:
        while True:
            ref = await self._kicked.get()
            self._pending.discard(ref)
            self._tasks.append(asyncio.create_task(self._flush_logged(*ref)))
            self._tasks = [t for t in self._tasks if not t.done()]

    async def _flush_logged(self, collection: str, doc_id: Any) -> None:
        try:
            await self.flush(collection, doc_id)
        except Exception as exc:  # the periodic sweep publishes it later
            _log.warning("outbox publish failed; the sweep retries", error=repr(exc), collection=collection)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception as exc:
                _log.warning("outbox sweep failed", error=repr(exc))
            await asyncio.sleep(self._sweep_interval_s)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._drain_kicks()), asyncio.create_task(self._sweep_forever())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
