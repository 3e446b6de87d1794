"""Reads for "change the first candidate" (claim-next), shared by the callers waiting at the same moment.

Many agents ask for the next work item at once. Each asking for its own sorted read of the queue costs one
query per claim, and the callers then race for the same first document. Instead, the callers of one
*share key* in one process queue for a read: a read serves every caller that was waiting when it
started, with enough candidates for all of them, and the callers take distinct candidates from it in
order. A caller never joins a read that started before it arrived, so what it is offered is at least as
recent as its request, and the strict sort order holds: callers are served first come, first served,
from a fresh read.

A candidate a caller's ``decide`` refuses stays available to the other callers of the same read (an agent
without the item's skill leaves it to one who has it). Documents a caller of this process is writing are
skipped by later reads, and a candidate a caller of this process has written (or lost to another writer)
is skipped in every round read before that write: its version there is older than the one stored, so its
write could only lose. So the process does not race with itself, also when callers of overlapping rounds
walk the same head of the queue; other processes (replicas) are kept apart by the store's version guard.

A store built with a ``queue`` (the equality filter of its claim queue, e.g. ``{"status": "queued"}``) keeps
the last read of a share key whose ``narrow`` lies within the queue (:func:`within`: the queue's equalities,
possibly narrowed further, e.g. by the caller's skills) as its *head* and serves later rounds from it without
a sorted read, as long as the queue's *mark* is unchanged: every write through such a store that leaves a
document in the queue (a new item, a release, a retry, any change of a queued item) raises the mark after the
write, and a round reads the mark (one read by ``_id``) after its callers asked. So a document that entered
the queue, or changed in it, before a caller asked is always seen by that caller, also one written by another
process; claims, which take documents out of the queue, do not raise it. A head is read again when it is used up,
when a write of it lost its race (another writer got there first), and after :data:`HEAD_MAX_AGE_S` (which
bounds the delay of a document whose mark was lost in a crash between its write and the raise). This is one
of the store's tricks for the local MongoDB-wire server, which serves no sorted read from an index: there each
sorted read scans and sorts the whole collection (9-21 ms of its CPU with 2,000 queued items, against about
0.3 ms for the mark), and at 10 agents one such read served only two or three claims.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .core import VERSION_FIELD

STALE_KEEP = 4096
"""How many written candidates a queue remembers (the oldest are forgotten; one forgotten costs at most a lost
write, never a wrong answer)."""

HEAD_SIZE = 64
"""How many candidates a round of a marked queue reads at least, to serve later rounds from (its head)."""
HEAD_MAX_AGE_S = 0.5
"""A head older than this is read again even when the mark is unchanged."""

ReadMark = Callable[[], Awaitable[int]]
Find = Callable[[Mapping[str, Any], Sequence[tuple[str, int]], int], Awaitable[list[dict[str, Any]]]]


@dataclass
class Round:
    """One read of the first candidates and what the callers served by it did with them."""

    docs: list[dict[str, Any]]
    complete: bool
    """The read found fewer documents than it asked for: no other document matched at that moment."""
    gone: set[Any] = field(default_factory=set)
    """Ids written (or lost to another writer) by a caller of this round: no longer candidates."""
    mark: int | None = None
    """The queue's mark, read before the documents (None: the store has no marked queue)."""
    limit: int = 0
    read_at: float = 0.0

    def serves(self, queue: Queue, mark: int, want: int, callers: int) -> bool:
        """Whether this head can serve a round that read ``mark``: nothing entered the queue since it was read,
        it is young, it was read deep enough, and it has a candidate left per caller (or is the whole queue)."""
        if self.mark != mark or time.monotonic() - self.read_at > HEAD_MAX_AGE_S or want >= self.limit:
            return False
        left = sum(1 for doc in self.docs
                   if doc["_id"] not in self.gone and doc["_id"] not in queue.writing and not queue.stale(doc))
        return self.complete or left >= callers


@dataclass
class Taken:
    """What one caller did with a round: the outcome of the candidate it wrote, or what kept it from one."""

    outcome: Any = None
    """The store's outcome of the write (``None``: no candidate written)."""
    lost: bool = False
    """A write of this caller lost its race to another writer."""
    passed: set[Any] = field(default_factory=set)
    """Candidates passed over because a caller of this process was writing them or wrote them since the read."""


@dataclass
class _Waiter:
    filter: Mapping[str, Any]
    want: int
    answer: asyncio.Future[Round]


@dataclass
class Queue:
    """The callers of one share key in this process: those waiting for the next read and the ids in writing."""

    writing: dict[Any, asyncio.Event] = field(default_factory=dict)
    """The candidates callers of this queue are writing, each with the event set when its write has ended."""
    waiting: list[_Waiter] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None
    head: Round | None = None
    """The last round of a marked queue, kept to serve the next rounds while the mark is unchanged."""
    written: dict[Any, int] = field(default_factory=dict)
    """Per candidate written by a caller of this queue (won or lost): the version it was read at. Any read
    of it at that version or an older one is stale."""

    def begin(self, doc_id: Any) -> asyncio.Event:
        """A caller starts writing ``doc_id``: later rounds skip it, callers passing it can wait for the end."""
        done = self.writing[doc_id] = asyncio.Event()
        return done

    def end(self, doc_id: Any, done: asyncio.Event) -> None:
        if self.writing.get(doc_id) is done:
            del self.writing[doc_id]
        done.set()

    async def settled(self, ids: set[Any]) -> None:
        """Wait until the writes of ``ids`` by callers of this queue have ended (won or lost)."""
        for doc_id in ids:
            done = self.writing.get(doc_id)
            if done is not None:
                await done.wait()

    def stale(self, doc: Mapping[str, Any]) -> bool:
        """Whether ``doc`` (as some round read it) was written since: a write of it would lose its race."""
        seen = self.written.get(doc["_id"])
        return seen is not None and int(doc.get(VERSION_FIELD) or 0) <= seen

    def wrote(self, doc: Mapping[str, Any]) -> None:
        """A caller wrote ``doc`` (as read), or lost it to another writer: older reads of it are stale."""
        self.written.pop(doc["_id"], None)
        self.written[doc["_id"]] = int(doc.get(VERSION_FIELD) or 0)
        if len(self.written) > STALE_KEEP:
            del self.written[next(iter(self.written))]

    def lost(self, found: Round) -> None:
        """A write of a candidate of ``found`` lost its race (another writer changed the queue), or a caller found
        nothing in it but candidates of other callers: the next round reads again."""
        if self.head is found:
            self.head = None

    async def read(self, find: Find, filter: Mapping[str, Any], sort: Sequence[tuple[str, int]],
                   want: int, read_mark: ReadMark | None = None) -> Round:
        """A round read after this call began, shared with the callers waiting beside this one (with
        ``read_mark``, possibly the head, when the mark read after this call began shows it is still whole)."""
        answer: asyncio.Future[Round] = asyncio.get_running_loop().create_future()
        self.waiting.append(_Waiter(filter, want, answer))
        if self.reader is None or self.reader.done():
            self.reader = asyncio.create_task(self._serve(find, sort, read_mark))
        return await answer

    async def _serve(self, find: Find, sort: Sequence[tuple[str, int]], read_mark: ReadMark | None) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            try:
                shared = await self._round(find, sort, read_mark, batch)
            except Exception as exc:  # every caller of the round sees the failure of its read
                for waiter in batch:
                    if not waiter.answer.done():
                        waiter.answer.set_exception(exc)
                continue
            for waiter in batch:
                if not waiter.answer.done():  # a caller cancelled while it waited has no one to answer
                    waiter.answer.set_result(shared)

    async def _round(self, find: Find, sort: Sequence[tuple[str, int]], read_mark: ReadMark | None,
                     batch: list[_Waiter]) -> Round:
        want = max(waiter.want for waiter in batch)
        limit = want + len(batch) - 1 + len(self.writing)
        mark = await read_mark() if read_mark is not None else None
        if mark is not None:
            if self.head is not None and self.head.serves(self, mark, want, len(batch)):
                return self.head
            limit = max(limit, HEAD_SIZE)
        # The last caller's filter: the callers of one key select the same documents up to bounds in
        # time, and the latest caller's bounds are the most recent. Each decide still checks its own.
        docs = await find(batch[-1].filter, sort, limit)
        shared = Round([doc for doc in docs if doc["_id"] not in self.writing], len(docs) < limit, mark=mark,
                       limit=limit, read_at=time.monotonic())
        self.head = shared if mark is not None else None
        return shared


def within(narrow: Mapping[str, Any] | None, queue: Mapping[str, Any] | None) -> bool:
    """Whether ``narrow`` selects only documents of the marked ``queue``: it holds every equality of the queue
    (other conditions may narrow it further). A document that enters what it selects, or changes in it, is
    then in the queue after its write, so the queue's mark covers its head."""
    if queue is None or narrow is None:
        return False
    return all(key in narrow and narrow[key] == value for key, value in queue.items())


def own_round(docs: list[dict[str, Any]], limit: int) -> Round:
    """A round read by one caller alone (no share key)."""
    return Round(docs, len(docs) < limit)
