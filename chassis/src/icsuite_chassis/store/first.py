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
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .core import VERSION_FIELD

STALE_KEEP = 4096
"""How many written candidates a queue remembers (the oldest are forgotten; one forgotten costs at most a lost
write, never a wrong answer)."""

Find = Callable[[Mapping[str, Any], Sequence[tuple[str, int]], int], Awaitable[list[dict[str, Any]]]]


@dataclass
class Round:
    """One read of the first candidates and what the callers served by it did with them."""

    docs: list[dict[str, Any]]
    complete: bool
    """The read found fewer documents than it asked for: no other document matched at that moment."""
    gone: set[Any] = field(default_factory=set)
    """Ids written (or lost to another writer) by a caller of this round: no longer candidates."""


@dataclass
class _Waiter:
    filter: Mapping[str, Any]
    want: int
    answer: asyncio.Future[Round]


@dataclass
class Queue:
    """The callers of one share key in this process: those waiting for the next read and the ids in writing."""

    writing: set[Any] = field(default_factory=set)
    waiting: list[_Waiter] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None
    written: dict[Any, int] = field(default_factory=dict)
    """Per candidate written by a caller of this queue (won or lost): the version it was read at. Any read
    of it at that version or an older one is stale."""

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

    async def read(self, find: Find, filter: Mapping[str, Any], sort: Sequence[tuple[str, int]],
                   want: int) -> Round:
        """A round read after this call began, shared with the callers waiting beside this one."""
        answer: asyncio.Future[Round] = asyncio.get_running_loop().create_future()
        self.waiting.append(_Waiter(filter, want, answer))
        if self.reader is None or self.reader.done():
            self.reader = asyncio.create_task(self._serve(find, sort))
        return await answer

    async def _serve(self, find: Find, sort: Sequence[tuple[str, int]]) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            # The last caller's filter: the callers of one key select the same documents up to bounds in
            # time, and the latest caller's bounds are the most recent. Each decide still checks its own.
            limit = max(waiter.want for waiter in batch) + len(batch) - 1 + len(self.writing)
            try:
                docs = await find(batch[-1].filter, sort, limit)
            except Exception as exc:  # every caller of the round sees the failure of its read
                for waiter in batch:
                    if not waiter.answer.done():
                        waiter.answer.set_exception(exc)
                continue
            shared = Round([doc for doc in docs if doc["_id"] not in self.writing], len(docs) < limit)
            for waiter in batch:
                if not waiter.answer.done():  # a caller cancelled while it waited has no one to answer
                    waiter.answer.set_result(shared)


def own_round(docs: list[dict[str, Any]], limit: int) -> Round:
    """A round read by one caller alone (no share key)."""
    return Round(docs, len(docs) < limit)
