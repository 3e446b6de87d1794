"""Changes of one hot document, made together by the callers of one process.

A counter that every request of a burst changes (a rate limit per caller, say) is one document that many
callers of a process want to change at the same moment. Each alone would read, decide and write, and all
but one would lose the race and try again, round after round. Instead the callers waiting for the same
document are served by one change: their decisions are applied in arrival order, one after the other,
to one read of the document, and saved in one guarded write. A decision that refuses (raises) leaves the
state as the one before it, and only its own caller sees the error. Other processes are kept apart by the
version guard as always.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic

from .core import Change, Decide, Item, Outcome, S, Stored

ChangeMany = Callable[[Sequence[Item[S]]], Awaitable[list[Outcome[S]]]]


@dataclass
class _Caller(Generic[S]):
    decide: Decide[S]
    answer: asyncio.Future[Outcome[S]]
    refusal: BaseException | None = None


@dataclass
class Together(Generic[S]):
    """The callers waiting to change each document, and the task serving them."""

    waiting: dict[Hashable, list[_Caller[S]]] = field(default_factory=dict)
    serving: dict[Hashable, asyncio.Task[None]] = field(default_factory=dict)

    async def change(self, change_many: ChangeMany[S], doc_id: Hashable, decide: Decide[S]) -> Outcome[S]:
        caller: _Caller[S] = _Caller(decide, asyncio.get_running_loop().create_future())
        self.waiting.setdefault(doc_id, []).append(caller)
        task = self.serving.get(doc_id)
        if task is None or task.done():
            self.serving[doc_id] = asyncio.create_task(self._serve(change_many, doc_id))
        return await caller.answer

    async def _serve(self, change_many: ChangeMany[S], doc_id: Hashable) -> None:
        try:
            while batch := self.waiting.pop(doc_id, []):
                await self._one_change(change_many, doc_id, batch)
        finally:
            self.serving.pop(doc_id, None)

    @staticmethod
    async def _one_change(change_many: ChangeMany[S], doc_id: Hashable, batch: list[_Caller[S]]) -> None:
        def guarded(caller: _Caller[S]) -> Decide[S]:
            def decide(current: Stored[S] | None) -> Change[S] | None:
                caller.refusal = None  # decided again after a lost race
                try:
                    return caller.decide(current)
                except Exception as exc:  # the caller's refusal: no change for it, its error for it alone
                    caller.refusal = exc
                    return None
            return decide

        try:
            outcomes = await change_many([Item(doc_id, guarded(caller)) for caller in batch])
        except Exception as exc:
            for caller in batch:
                if not caller.answer.done():
                    caller.answer.set_exception(exc)
            return
        for caller, outcome in zip(batch, outcomes, strict=True):
            if caller.answer.done():
                continue
            if caller.refusal is not None:
                caller.answer.set_exception(caller.refusal)
            else:
                caller.answer.set_result(outcome)

