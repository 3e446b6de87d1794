"""Outbox entries that cannot be sent are parked instead of jamming their record's outbox.

The relay counts the failed sends of each entry, and stores the count with the entry (``attempts`` in its
document's ``_outbox``), so a restart goes on counting instead of starting again: the retries stay bounded
across restarts and crashes. An entry that failed ``max_attempts`` times moves from
its document's ``_outbox`` to the service's ``outbox_parked`` collection with its reason, the
``ic_outbox_parked_total`` counter and a warning say so, and the record's later events go out at once.
``python -m icsuite_chassis.outbox_parked`` lists parked entries and publishes them again after a fix.

A failure counts when it belongs to the entry: an error Kafka will never answer differently (too large,
not serialisable, not authorised), or a transient one while Kafka acknowledged other entries since the
entry's last failure (for its first failure in a process: since the process started), and only once the
entry has been failing with transient errors for ``transient_grace_s`` (``outbox_transient_grace_s``, 120 s).
During an outage nothing is acknowledged, so nothing is parked for it, however often the service restarts
meanwhile. The grace covers the partial outage that follows a broker restart: partition by partition the
leaders come back, and while some partitions take entries, the entries of a partition still without a leader
fail with ``LeaderNotAvailableError`` (without the grace, a broker restart in the failure test parked 35 due
calls' events of callbacks within 10 s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaConnectionError, KafkaError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from .logging import get_logger
from .metrics import OUTBOX_PARKED, OUTBOX_PARKED_NOW

PARKED_COLLECTION = "outbox_parked"
OUTBOX_FIELD = "_outbox"
ATTEMPTS_FIELD = "attempts"
MAX_TRACKED = 100_000
_log = get_logger(__name__)


def is_transient(exc: BaseException) -> bool:
    """Errors that an unreachable or busy broker or database causes (they say nothing about the entry)."""
    if isinstance(exc, (asyncio.TimeoutError, ConnectionFailure, KafkaConnectionError)):
        return True
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))


@dataclass
class _Failures:
    count: int
    last_at: float


class ParkingLot:
    """Counts failed sends per entry and parks an entry after ``max_attempts`` of them."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, max_attempts: int = 5,
                 collection: str = PARKED_COLLECTION, transient_grace_s: float = 120.0,
                 clock: Callable[[], float] = time.monotonic):
        self._db = db
        self.max_attempts = max_attempts
        self.collection = collection
        self.transient_grace_s = transient_grace_s
        self._clock = clock
        self._failures: dict[tuple[str, Any, str], _Failures] = {}
        self._transient_since: dict[tuple[str, Any, str], float] = {}
        self._last_ack = float("-inf")

    def acknowledged(self, collection: str, doc_id: Any, entry_ids: list[str]) -> None:
        self._last_ack = self._clock()
        for entry_id in entry_ids:
            self._failures.pop((collection, doc_id, entry_id), None)
            self._transient_since.pop((collection, doc_id, entry_id), None)

    def _an_outage(self, key: tuple[str, Any, str], seen: _Failures | None) -> bool:
        """A transient error that says nothing about the entry: nothing else got through since its last
        failure, or it has not been failing for the grace yet."""
        now = self._clock()
        since = self._transient_since.setdefault(key, now)
        return self._last_ack <= (seen.last_at if seen else float("-inf")) or now - since < self.transient_grace_s

    async def failed(self, collection: str, doc_id: Any, entry: dict[str, Any], exc: BaseException) -> bool:
        """Count a failed send of ``entry``; park it once it failed ``max_attempts`` times (True if parked).

        ``entry`` is the entry as read from its document: its stored ``attempts`` are the failures counted
        before, also by an earlier process.
        """
        key = (collection, doc_id, str(entry.get("id")))
        seen = self._failures.get(key)
        if len(self._failures) >= MAX_TRACKED or len(self._transient_since) >= MAX_TRACKED:
            self._failures.clear()
            self._transient_since.clear()
        if is_transient(exc) and self._an_outage(key, seen):
            return False  # an outage (of the broker or of the entry's partition), not this entry
        stored = entry.get(ATTEMPTS_FIELD)
        before = max(seen.count if seen else 0, stored if isinstance(stored, int) else 0)
        seen = self._failures[key] = _Failures(before + 1, self._clock())
        if seen.count < self.max_attempts:
            await self._db[collection].update_one({"_id": doc_id, f"{OUTBOX_FIELD}.id": entry["id"]},
                                                  {"$set": {f"{OUTBOX_FIELD}.$.{ATTEMPTS_FIELD}": seen.count}})
            _log.info("outbox send failed", collection=collection, entry_id=key[2], attempt=seen.count,
                      max_attempts=self.max_attempts, error=type(exc).__name__)
            return False
        await self.park(collection, doc_id, entry, reason=_reason(exc), attempts=seen.count)
        self._failures.pop(key, None)
        self._transient_since.pop(key, None)
        return True

    async def park(self, collection: str, doc_id: Any, entry: dict[str, Any], *, reason: str,
                   attempts: int) -> None:
        """Store ``entry`` in the parked collection, then take it out of its document's outbox."""
        parked = {"collection": collection, "doc_id": doc_id, "entry": entry, "reason": reason,
                  "attempts": attempts, "parked_at": datetime.now(UTC), "type": entry.get("type"),
                  "topic": entry.get("topic")}
        await self._db[self.collection].update_one({"_id": entry["id"]}, {"$setOnInsert": parked}, upsert=True)
        await self._db[collection].update_one({"_id": doc_id}, {"$pull": {OUTBOX_FIELD: {"id": entry["id"]}}})
        OUTBOX_PARKED.labels(collection, _reason_kind(reason)).inc()
        _log.warning("outbox entry parked: later events of its record go on; "
                     "republish with python -m icsuite_chassis.outbox_parked",
                     collection=collection, entry_id=entry["id"], ce_type=entry.get("type"), attempts=attempts,
                     reason=reason, parked_collection=self.collection)

    async def count(self) -> int:
        parked = await self._db[self.collection].count_documents({})
        OUTBOX_PARKED_NOW.set(parked)
        return parked


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0][:64]
