"""A FIFO mutex per document, for the outbox relay's batches (see :mod:`icsuite_chassis.outbox`)."""

from __future__ import annotations

import asyncio
from collections import deque


class DocLock:
    """A FIFO mutex for one document that hands ownership straight to the next waiter.

    Unlike ``asyncio.Lock`` it is never "free with a waiter about to take it", so ``try_acquire``
    tells exactly whether taking it now would wait. ``seq`` orders the locks for blocking acquisition
    of several at once (always in increasing ``seq``, so two batches never wait on each other).
    """

    __slots__ = ("seq", "users", "_held", "_waiters")

    def __init__(self, seq: int):
        self.seq = seq
        self.users = 0
        self._held = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_acquire(self) -> bool:
        if self._held or self._waiters:
            return False
        self._held = True
        return True

    async def acquire(self) -> None:
        if self.try_acquire():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # ownership was handed over just before the cancellation
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # ownership passes on; _held stays True
                return
        self._held = False
