"""The claimable entries: one small document per queued item, so that claim-next scans only what is claimable.

The entry is a hint, never the authority: an item changes owner only through a write of the work item
guarded by its ``version`` and ``status: queued``. An entry that no longer matches its item costs one
failed guard and is dropped; an item queued without an entry (a crash between the item's write and the
entry's) is only delayed until :meth:`WorkItems.repair_claimable` re-creates the entry.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING

from ..domain import WorkItem

CLAIMABLE = "callbacks_claimable"
CLAIM_ORDER = [("priority", DESCENDING), ("due_at", ASCENDING), ("_id", ASCENDING)]


@dataclass(frozen=True)
class Claimable:
    """What claim-next knows of an item before it claims it (enough for the claimed event)."""

    callback_id: str
    request_id: str
    account_id: str | None
    version: int


def entry_fields(item: WorkItem) -> dict[str, Any]:
    """The entry of a queued item at its stored ``version`` (everything but ``_id``)."""
    return {"priority": item.routing.priority, "due_at": item.due_at, "visible_from": item.visible_from,
            "expires_at": item.expires_at, "request_id": item.request_id, "account_id": item.account_id,
            "version": item.version}


def claimable_filter(now: datetime) -> dict[str, Any]:
    """The window open, the retry delay over, not yet past the window (as the general inbox)."""
    return {"visible_from": {"$lte": now}, "expires_at": {"$gt": now}}


def claimable_of(entry: dict[str, Any]) -> Claimable:
    return Claimable(callback_id=entry["_id"], request_id=entry["request_id"], account_id=entry.get("account_id"),
                     version=entry["version"])


def more_urgent_than(entry: dict[str, Any]) -> dict[str, Any]:
    """Entries ahead of ``entry`` in the claim order (priority high first, then due time, then id)."""
    p, d, i = entry["priority"], entry["due_at"], entry["_id"]
    return {"$or": [{"priority": {"$gt": p}}, {"priority": p, "due_at": {"$lt": d}},
                    {"priority": p, "due_at": d, "_id": {"$lt": i}}]}


class ClaimHead:
    """This process's view of the head of the claimable entries, so that a claim needs no sorted query.

    The local MongoDB-wire server sorts without an index: a sorted query over the claimable entries costs
    several milliseconds under the collection's lock, an unsorted scan or an ``_id`` write a fraction of one.
    So the most urgent ``size`` entries are read sorted once and handed out one per concurrent claim; each
    claim then checks with an unsorted query that no workable entry is ahead of its candidate (other than the
    candidates of this process's claims in flight) and takes the entry by ``_id`` with one atomic delete.
    The claim order is the same as one sorted ``find_one_and_delete`` at the time of the check: an entry
    queued later, or visible later, that is more urgent is found by the check, and the view is read again.
    """

    def __init__(self, collection: Any, size: int = 100):
        self._col = collection
        self._size = size
        self._view: list[dict[str, Any]] = []   # the head as read, most urgent last (pop from the end)
        self._in_flight: set[str] = set()
        self._refresh = asyncio.Lock()

    async def _candidate(self, now: datetime) -> dict[str, Any] | None:
        while not self._view:
            async with self._refresh:
                if self._view:
                    break
                cursor = self._col.find(claimable_filter(now)).sort(CLAIM_ORDER).limit(
                    self._size + len(self._in_flight))
                head = [e async for e in cursor if e["_id"] not in self._in_flight][: self._size]
                if not head:
                    return None
                self._view = head[::-1]
        return self._view.pop()

    async def take(self, now: datetime) -> dict[str, Any] | None:
        """Remove and answer the most urgent workable entry (one taker per entry); None when there is none."""
        while True:
            entry = await self._candidate(now)
            if entry is None:
                return None
            callback_id = entry["_id"]
            if callback_id in self._in_flight:
                continue
            self._in_flight.add(callback_id)
            try:
                ahead = {**more_urgent_than(entry), **claimable_filter(now),
                         "_id": {"$nin": sorted(self._in_flight)}}
                if await self._col.find_one(ahead, {"_id": 1}) is not None:
                    self._view = []   # something more urgent came: read the head again
                    continue
                taken = await self._col.find_one_and_delete({"_id": callback_id, **claimable_filter(now)})
                if taken is not None:
                    return dict(taken)
            finally:
                self._in_flight.discard(callback_id)
