"""The claimable entries: one small document per queued item, so that claim-next scans only what is claimable.

The entry is a hint, never the authority: an item changes owner only through a write of the work item
guarded by the entry's ``version``. An entry that no longer matches its item costs one failed guard and is
dropped; an item queued without an entry (a crash between the item's write and the entry's) is only delayed
until :meth:`WorkItems.repair_claimable` re-creates the entry.

Why ``{_id, version}`` is guard enough (the writes of claim-next filter on nothing else, so that the local
MongoDB-wire server answers them from the unique ``(_id, version)`` indexes instead of scanning):

- an entry of version ``v`` is only ever written from the item as stored at version ``v`` with status
  ``queued`` (:meth:`WorkItems.offer` from a transition's stored result, from a fresh read, or the repair's
  read), and it carries that version's window (``visible_from``, ``expires_at``);
- every write of an item that changes any of its fields raises its version (``add`` writes version 1,
  ``save``, the claim and ``emit_pending_claim`` add one; only the outbox relay's ``$pull`` of the item's own
  outbox leaves it), and versions never go back.

So an item still at the entry's version is queued with the entry's window, and the window is checked in
Python on the entry, at the claim's own ``now``; an item at any other version fails the guard.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icsuite_chassis.logging import get_logger
from icsuite_chassis.mongo import is_duplicate_key
from pymongo import ASCENDING, DESCENDING, DeleteOne

from ..domain import WorkItem

log = get_logger(__name__)

CLAIMABLE = "callbacks_claimable"
OFFERS = "callbacks_claimable_offers"
CLAIM_ORDER = [("priority", DESCENDING), ("due_at", ASCENDING), ("_id", ASCENDING)]
BY_VERSION = [("_id", ASCENDING), ("version", ASCENDING)]
"""Unique on the items and on the entries: a filter of exactly ``{_id, version}`` is answered from it
(a real MongoDB answers it from ``_id`` anyway)."""


@dataclass(frozen=True)
class Claimable:
    """What claim-next knows of an item before it claims it (enough for the claimed event), and the time at
    which its entry was taken, workable."""

    callback_id: str
    request_id: str
    account_id: str | None
    version: int
    taken_at: datetime


def entry_fields(item: WorkItem) -> dict[str, Any]:
    """The entry of a queued item at its stored ``version`` (everything but ``_id``)."""
    return {"priority": item.routing.priority, "due_at": item.due_at, "visible_from": item.visible_from,
            "expires_at": item.expires_at, "request_id": item.request_id, "account_id": item.account_id,
            "version": item.version}


def claimable_filter(now: datetime) -> dict[str, Any]:
    """The window open, the retry delay over, not yet past the window (as the general inbox)."""
    return {"visible_from": {"$lte": now}, "expires_at": {"$gt": now}}


def claimable_of(entry: dict[str, Any], taken_at: datetime) -> Claimable:
    return Claimable(callback_id=entry["_id"], request_id=entry["request_id"], account_id=entry.get("account_id"),
                     version=entry["version"], taken_at=taken_at)


class OfferCount:
    """How many entries have been offered, by every process: raised after each offer's write of its entry.

    Claim-next reads it (by ``_id``) before it takes an entry from its cached head: an offer that completed
    before the claim began has raised it, so the claim sees the offer. Concurrent claims share one read, but
    only a read sent after they began.
    """

    ID = "offers"

    def __init__(self, collection: Any):
        self._col = collection
        self._waiting: asyncio.Future[int] | None = None
        self._reader: asyncio.Task[None] | None = None

    async def announce(self) -> None:
        for _ in range(2):   # two first upserts at once: one of them meets the other's document
            try:
                await self._col.update_one({"_id": self.ID}, {"$inc": {"count": 1}}, upsert=True)
                return
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise

    async def read(self) -> int:
        doc = await self._col.find_one({"_id": self.ID})
        return int(doc["count"]) if doc else 0

    async def fresh(self) -> int:
        """The count as answered by a read sent after this call (callers waiting at once share the read)."""
        if self._waiting is None:
            self._waiting = asyncio.get_running_loop().create_future()
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read_for_waiting())
        return await asyncio.shield(self._waiting)

    async def _read_for_waiting(self) -> None:
        while self._waiting is not None:
            waiting, self._waiting = self._waiting, None   # who joins from now on waits for the next read
            try:
                waiting.set_result(await self.read())
            except asyncio.CancelledError:
                waiting.cancel()
                raise
            except Exception as exc:
                waiting.set_exception(exc)


class ClaimHead:
    """This process's view of the head of the claimable entries, so that a claim needs no sorted query.

    The local MongoDB-wire server sorts and filters without an index: a sorted query over the entries costs
    several milliseconds under the collection's lock, a write by ``{_id, version}`` a fraction of one. So the
    most urgent ``size`` workable entries are read sorted once and handed out, most urgent first, one per
    claim of this process. Exactly one claim owns the item: its write is guarded by the entry's version and
    raises it (:meth:`WorkItems.claim_taken`), so of claims of other processes holding the same entry all but
    one fail that guard. Either way the entry is dead once it was used: :meth:`used` removes it by
    ``{_id, version}`` (never a newer entry of the item), in batches after the claims, and until then keeps it
    out of this process's view. A removal lost in a crash leaves an entry that fails every guard and that the
    repair removes.

    The view is read again when it is used up, when an offer was announced since it was read
    (:class:`OfferCount`, read before the view and again before every take), and when an entry that was not
    yet visible becomes visible. Between those, no entry can come ahead of the view: entries are only
    removed, or expire. So the claim order is the same as one sorted ``find_one_and_delete`` at the time of
    the take (other than the entries of this process's claims in flight), as long as every entry is written
    through :meth:`WorkItems.offer` or the repair, which announce it.
    """

    def __init__(self, collection: Any, offers: OfferCount, size: int = 100):
        self._col = collection
        self._offers = offers
        self._size = size
        self._view: list[dict[str, Any]] = []   # the head as read, most urgent last (pop from the end)
        self._view_offers = -1                   # the offer count read before the view
        self._view_until: datetime | None = None  # when an entry that was not visible becomes visible
        self._in_flight: set[tuple[str, int]] = set()   # handed out, not yet removed: (``_id``, ``version``)
        self._removing: list[tuple[str, int]] = []
        self._remover: asyncio.Task[None] | None = None
        self._refresh = asyncio.Lock()

    def _stale(self, offers: int, now: datetime) -> bool:
        return (not self._view or offers > self._view_offers
                or (self._view_until is not None and now >= self._view_until))

    async def _read_view(self, now: datetime) -> None:
        self._view_offers = await self._offers.read()
        cursor = self._col.find(claimable_filter(now)).sort(CLAIM_ORDER).limit(self._size + len(self._in_flight))
        head = [e async for e in cursor if (e["_id"], e["version"]) not in self._in_flight][: self._size]
        later = await self._col.find_one({"visible_from": {"$gt": now}, "expires_at": {"$gt": now}},
                                         {"visible_from": 1}, sort=[("visible_from", ASCENDING)])
        self._view = head[::-1]
        self._view_until = later["visible_from"] if later else None

    async def take(self, clock: Any) -> Claimable | None:
        """Hand out the most urgent workable entry to this claim (no other of this process gets it; the caller
        then claims its item and calls :meth:`used`); None when there is none."""
        offers = await self._offers.fresh()
        while True:
            now = clock()
            if self._stale(offers, now):
                async with self._refresh:
                    now = clock()
                    if self._stale(offers, now):
                        await self._read_view(now)
                        if not self._view:
                            return None
                continue   # the clock again: every entry in the view was visible before the claim's ``now``
            entry = self._view.pop()
            if entry["visible_from"] > now:   # the clock went back: read the view at this time
                self._view = []
                continue
            if entry["expires_at"] <= now:    # expired since the view was read; the scheduler closes the item
                continue
            self._in_flight.add((entry["_id"], entry["version"]))
            return claimable_of(entry, now)

    def used(self, taken: Claimable) -> None:
        """The claim of ``taken`` was tried (claimed, or the item had changed): remove its entry soon."""
        self._removing.append((taken.callback_id, taken.version))
        if self._remover is None or self._remover.done():
            self._remover = asyncio.create_task(self._remove_used())

    async def _remove_used(self) -> None:
        while self._removing:
            batch, self._removing = self._removing, []
            try:
                await self._col.bulk_write([DeleteOne({"_id": i, "version": v}) for i, v in batch], ordered=False)
            except Exception as exc:  # the entries stay, fail every guard, and the repair removes them
                log.warning("claimable.remove_failed", entries=len(batch), error=str(exc))
            finally:
                self._in_flight.difference_update(batch)
