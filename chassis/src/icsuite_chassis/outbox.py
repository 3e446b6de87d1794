"""The transactional outbox, kept inside the aggregate's own document.

A state change and the events it causes are written in one single-document update: the events are
pushed onto the document's ``_outbox`` array. The relay publishes them in order and then pulls them
by id. After a write the service *kicks* the relay so that events leave at once; a sweep at start and
every ``full_sweep_interval_s`` (default: ``sweep_interval_s``) publishes whatever a crash or a Kafka outage
left behind; in between, every ``sweep_interval_s``, the documents whose flush failed in this process are
retried by id. A sweep scans every outbox collection, which costs a service with a large one (identity's
accounts) a collection scan each time, so it may sweep rarely without waiting longer for a retry. An event that was
published but not yet pulled when a process died is published again with the same ``ce_id``, which
every consumer of the suite deduplicates, so each effect happens exactly once.

The relay works in batches: the kicks queued since the last batch (up to ``max_batch``) are taken at
once and flushed per collection with :meth:`OutboxRelay.flush_many`: one read of the outboxes, every
entry handed to the producer without waiting for its acknowledgement (entries of one document share
their key, so their partition, and the idempotent producer keeps their order), then all
acknowledgements are awaited and what was acknowledged is pulled with one unordered bulk write. The
publisher hands each record straight to the broker's aiokafka producer (:meth:`EventPublisher.send_document`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, Protocol

from icsuite_contracts.cloudevents import Envelope, to_document
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from .limits import check_event_size
from .doc_lock import DocLock
from .logging import get_logger
from .metrics import OUTBOX_PENDING
from .outbox_parking import ParkingLot

OUTBOX_FIELD = "_outbox"
_log = get_logger(__name__)


class DocumentPublisher(Protocol):
    async def publish_document(self, entry: dict[str, Any]) -> None: ...


class SendingPublisher(DocumentPublisher, Protocol):
    async def send_document(self, entry: dict[str, Any]) -> Awaitable[Any]:
        """Hand ``entry`` to the producer; the returned awaitable completes with its acknowledgement."""


def outbox_entries(envelopes: Iterable[Envelope]) -> list[dict[str, Any]]:
    """The outbox documents of ``envelopes``; :class:`EventTooLarge` (413) if one could never be published."""
    envelopes = list(envelopes)
    check_event_size(envelopes)
    return [to_document(envelope) for envelope in envelopes]


def outbox_push(envelopes: Iterable[Envelope]) -> dict[str, Any]:
    """An update fragment that stores ``envelopes`` in the document's outbox."""
    entries = outbox_entries(envelopes)
    return {"$push": {OUTBOX_FIELD: {"$each": entries}}} if entries else {}


class OutboxRelay:
    """Publishes the outbox entries of the registered collections; safe to run in every replica."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], collections: Sequence[str],
                 publisher: DocumentPublisher, *, sweep_interval_s: float = 10.0,
                 full_sweep_interval_s: float | None = None, max_batch: int = 500,
                 batches_in_flight: int = 2, max_attempts: int = 5, transient_grace_s: float = 120.0):
        self._db = db
        self.parking = ParkingLot(db, max_attempts=max_attempts, transient_grace_s=transient_grace_s)
        self._collections = tuple(collections)
        self._publisher = publisher
        self._sweep_interval_s = sweep_interval_s
        self._retries_per_sweep = max(1, round((full_sweep_interval_s or sweep_interval_s) / sweep_interval_s))
        self._failed: set[tuple[str, Any]] = set()
        self._max_batch = max_batch
        self._kicked: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._pending: set[tuple[str, Any]] = set()
        self._batch_slots = asyncio.Semaphore(batches_in_flight)
        self._tasks: list[asyncio.Task[None]] = []
        self._batch_tasks: set[asyncio.Task[None]] = set()
        self._doc_locks: dict[tuple[str, Any], DocLock] = {}
        self._lock_seq = itertools.count()

    def kick(self, collection: str, doc_id: Any) -> None:
        """Ask the relay to publish the outbox of one document now (never blocks)."""
        ref = (collection, doc_id)
        if ref not in self._pending:
            self._pending.add(ref)
            self._kicked.put_nowait(ref)

    async def flush(self, collection: str, doc_id: Any) -> int:
        """Publish the outbox of one document in order and pull what was published."""
        return await self.flush_many(collection, [doc_id])

    async def flush_many(self, collection: str, doc_ids: Iterable[Any]) -> int:
        """Publish the outboxes of several documents of one collection and pull what was published.

        Flushes of one document run one after the other (a kick during a flush or a sweep waits), so
        this process never publishes an entry twice or out of order. Documents no other flush holds
        go at once in one batch; those held by another flush follow in a second batch once free.
        Raises the first publish error after pulling what was acknowledged (the sweep retries the rest).
        """
        ids = list(dict.fromkeys(doc_ids))
        locks = [self._lock_for(collection, doc_id) for doc_id in ids]
        try:
            free: list[tuple[Any, DocLock]] = []
            busy: list[tuple[Any, DocLock]] = []
            for doc_id, lock in zip(ids, locks):
                (free if lock.try_acquire() else busy).append((doc_id, lock))
            busy.sort(key=lambda item: item[1].seq)
            published = await self._locked_batch(collection, free) if free else 0
            if busy:
                held: list[tuple[Any, DocLock]] = []
                try:
                    for doc_id, lock in busy:  # increasing seq: no two flushes wait on each other
                        await lock.acquire()
                        held.append((doc_id, lock))
                except BaseException:
                    for _, lock in held:
                        lock.release()
                    raise
                published += await self._locked_batch(collection, held)
            return published
        finally:
            for doc_id, lock in zip(ids, locks):
                lock.users -= 1
                if lock.users == 0:
                    del self._doc_locks[(collection, doc_id)]

    def _lock_for(self, collection: str, doc_id: Any) -> DocLock:
        lock = self._doc_locks.get((collection, doc_id))
        if lock is None:
            lock = self._doc_locks[(collection, doc_id)] = DocLock(next(self._lock_seq))
        lock.users += 1
        return lock

    async def _locked_batch(self, collection: str, held: Sequence[tuple[Any, DocLock]]) -> int:
        try:
            return await self._publish_batch(collection, [doc_id for doc_id, _ in held])
        finally:
            for _, lock in held:
                lock.release()

    async def _publish_batch(self, collection: str, ids: Sequence[Any]) -> int:
        """Read, send, await the acknowledgements, pull: the caller holds the locks of ``ids``."""
        coll = self._db[collection]
        if len(ids) == 1:  # an exact _id filter: the one form every server answers from the index
            docs = [doc] if (doc := await coll.find_one({"_id": ids[0]}, {OUTBOX_FIELD: 1})) else []
        else:
            docs = [doc async for doc in coll.find({"_id": {"$in": list(ids)}}, {OUTBOX_FIELD: 1})]
        await self._prepare([entry for doc in docs for entry in doc.get(OUTBOX_FIELD) or []])
        sends: list[tuple[Any, dict[str, Any], Awaitable[Any]]] = []
        failures: dict[Any, tuple[dict[str, Any], BaseException]] = {}  # the first failing entry per document
        try:
            for doc in docs:
                for entry in doc.get(OUTBOX_FIELD) or []:
                    try:
                        acked = await self._send(entry)
                    except Exception as exc:  # not handed to the producer: the rest of this document waits
                        failures[doc["_id"]] = (entry, exc)
                        break
                    sends.append((doc["_id"], entry, acked))
        finally:
            # every sent entry is awaited, also on an error or a cancellation, so nothing acknowledged
            # stays unpulled longer than it must (a crash here republishes it with the same ce_id)
            results = await asyncio.gather(*(acked for _, _, acked in sends), return_exceptions=True)
            acknowledged: dict[Any, list[str]] = {}
            failed_docs: set[Any] = set()
            for (doc_id, entry, _), result in zip(sends, results):
                if isinstance(result, BaseException):
                    if doc_id not in failed_docs:  # sent before any entry that failed to be sent
                        failures[doc_id] = (entry, result)
                    failed_docs.add(doc_id)
                elif doc_id not in failed_docs:  # only the acknowledged prefix: the outbox stays in order
                    acknowledged.setdefault(doc_id, []).append(entry["id"])
            pulls = [({"_id": doc_id}, {"$pull": {OUTBOX_FIELD: {"id": {"$in": entry_ids}}}})
                     for doc_id, entry_ids in acknowledged.items()]
            if len(pulls) == 1:
                await coll.update_one(*pulls[0])
            elif pulls:
                await coll.bulk_write([UpdateOne(*pull) for pull in pulls], ordered=False)
        for doc_id, entry_ids in acknowledged.items():
            self.parking.acknowledged(collection, doc_id, entry_ids)
        await self._count_failures(collection, failures)
        return sum(len(entry_ids) for entry_ids in acknowledged.values())

    async def _count_failures(self, collection: str,
                              failures: dict[Any, tuple[dict[str, Any], BaseException]]) -> None:
        """Count each failed entry; an entry parked after its last try lets its document's next ones go."""
        errors: list[BaseException] = []
        for doc_id, (entry, exc) in failures.items():
            if await self.parking.failed(collection, doc_id, entry, exc):
                self.kick(collection, doc_id)
            else:
                errors.append(exc)
        if errors:
            raise errors[0]

    async def _prepare(self, entries: list[dict[str, Any]]) -> None:
        """Let the publisher get ready for a batch at once (its data keys: one vault round trip, not one per
        entry). Best effort: if it fails, each entry's send prepares itself and fails or succeeds as always."""
        prepare = getattr(self._publisher, "prepare_documents", None)
        if prepare is None or not entries:
            return
        try:
            await prepare(entries)
        except Exception as exc:
            _log.debug("outbox batch preparation failed; entries prepared one by one", error=repr(exc))

    async def _send(self, entry: dict[str, Any]) -> Awaitable[Any]:
        send = getattr(self._publisher, "send_document", None)
        if send is not None:
            return await send(entry)  # type: ignore[no-any-return]
        # a publisher without a send step (test fakes): publish now, acknowledged on return
        await self._publisher.publish_document(entry)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def sweep(self) -> int:
        """Publish every pending outbox entry of every registered collection."""
        total = 0
        for collection in self._collections:
            cursor = self._db[collection].find({f"{OUTBOX_FIELD}.0": {"$exists": True}}, {"_id": 1})
            ids = [doc["_id"] async for doc in cursor]
            OUTBOX_PENDING.labels(collection).set(len(ids))
            for start in range(0, len(ids), self._max_batch):
                total += await self._flush_logged(collection, ids[start:start + self._max_batch])
        try:
            await self.parking.count()
        except Exception as exc:
            _log.warning("could not count the parked outbox entries", error=repr(exc))
        return total

    async def _drain_kicks(self) -> None:
        """Take every queued kick at once, group it by collection, flush each group as one batch.

        At most ``batches_in_flight`` batches run at a time; kicks queue meanwhile and make the next
        batch, so the busier the service, the larger the batches.
        """
        while True:
            await self._batch_slots.acquire()
            try:
                refs = [await self._kicked.get()]
            except BaseException:
                self._batch_slots.release()
                raise
            while len(refs) < self._max_batch and not self._kicked.empty():
                refs.append(self._kicked.get_nowait())
            groups: dict[str, list[Any]] = {}
            for ref in refs:
                self._pending.discard(ref)
                groups.setdefault(ref[0], []).append(ref[1])
            task = asyncio.create_task(self._flush_groups(groups))
            self._batch_tasks.add(task)
            task.add_done_callback(self._batch_tasks.discard)

    async def _flush_groups(self, groups: dict[str, list[Any]]) -> None:
        try:
            await asyncio.gather(*(self._flush_logged(collection, ids) for collection, ids in groups.items()))
        finally:
            self._batch_slots.release()

    async def _flush_logged(self, collection: str, doc_ids: list[Any]) -> int:
        try:
            return await self.flush_many(collection, doc_ids)
        except Exception as exc:  # retried by id after sweep_interval_s (and by the next sweep)
            self._failed.update((collection, doc_id) for doc_id in doc_ids)
            _log.warning("outbox publish failed; retried later", error=repr(exc), collection=collection,
                         documents=len(doc_ids))
            return 0

    async def retry_failed(self) -> int:
        """Flush again the documents whose flush failed in this process (read by ``_id``, no scan)."""
        failed, self._failed = self._failed, set()
        groups: dict[str, list[Any]] = {}
        for collection, doc_id in failed:
            groups.setdefault(collection, []).append(doc_id)
        total = 0
        for collection, ids in groups.items():
            for start in range(0, len(ids), self._max_batch):
                total += await self._flush_logged(collection, ids[start:start + self._max_batch])
        return total

    async def _sweep_forever(self) -> None:
        for rounds in itertools.count():
            try:
                await (self.sweep() if rounds % self._retries_per_sweep == 0 else self.retry_failed())
            except Exception as exc:
                _log.warning("outbox sweep failed", error=repr(exc))
            await asyncio.sleep(self._sweep_interval_s)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._drain_kicks()), asyncio.create_task(self._sweep_forever())]

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._batch_tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks = []
        self._batch_tasks.clear()
