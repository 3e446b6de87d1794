"""Delivery of alerts as server-sent events, in stream-position order, none twice, none skipped.

Positions come from a counter (``$inc``), so two writers may make position 6 visible before 5. The
:class:`StreamHorizon` of each process therefore advances only over contiguous positions; a gap that
stays open longer than ``gap_timeout_s`` (a writer that died between taking a position and inserting)
is skipped. Streams deliver alerts up to the horizon and wait for it to move: a local raise wakes it at
once, alerts raised by other replicas are seen by polling every ``poll_interval_s``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from .repository import STREAM_WINDOW, AlertRepository


class StreamHorizon:
    def __init__(self, alerts: AlertRepository, *, poll_interval_s: float, gap_timeout_s: float):
        self._alerts = alerts
        self._poll_interval_s = poll_interval_s
        self._gap_timeout_s = gap_timeout_s
        self.position = 0
        self._gap_since: float | None = None
        self._wake = asyncio.Event()
        self._moved = asyncio.Event()
        self._local: set[int] = set()

    async def start(self) -> None:
        self.position = await self._alerts.last_position()

    def poke(self, positions: Iterable[int] = ()) -> None:
        """Alerts were written by this process at ``positions``: move now instead of at the next poll.

        Written positions that extend the horizon contiguously are taken without asking the database,
        and the streams are woken at once; anything else is looked up.
        """
        self._local.update(p for p in positions if p > self.position)
        if self._advance_local():
            self._notify()
        self._wake.set()

    def _advance_local(self) -> bool:
        moved = False
        while self.position + 1 in self._local:
            self._local.discard(self.position + 1)
            self.position += 1
            self._gap_since = None
            moved = True
        self._local = {p for p in self._local if p > self.position}
        return moved

    def _notify(self) -> None:
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def tick(self) -> None:
        """One poll (the runtime calls it in a loop): wait for a poke or the poll interval, then advance."""
        try:
            await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
        except TimeoutError:
            pass
        self._wake.clear()
        await self.advance()

    async def advance(self) -> None:
        """Move over the positions that became visible: those after the horizon are looked up by position
        (``$in`` on unique keys, no scan), ``STREAM_WINDOW`` at a time; a query is only needed when nothing
        in the window is visible while the counter has handed out positions beyond it."""
        start = self.position
        while True:
            base = self.position
            visible = await self._alerts.visible_positions(base, STREAM_WINDOW)
            if not visible and await self._alerts.positions_taken() > base + STREAM_WINDOW:
                visible = set(await self._alerts.positions_after(base))
            self._step(sorted(visible))
            if self.position < base + STREAM_WINDOW or self.position == base:
                break
        self._advance_local()
        if self.position != start:
            self._notify()

    def _step(self, positions: list[int]) -> None:
        for position in positions:
            if position <= self.position:  # a local poke moved over it meanwhile
                continue
            if position == self.position + 1:
                self.position = position
                self._gap_since = None
                continue
            now = time.monotonic()
            self._gap_since = self._gap_since or now
            if now - self._gap_since < self._gap_timeout_s:
                break
            self.position = position  # the missing positions were never written
            self._gap_since = None

    async def wait_moved(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._moved.wait(), timeout)
        except TimeoutError:
            pass


def audience(agent_id: str, *, include_supervisor_alerts: bool) -> dict[str, Any]:
    own = {"agent_id": agent_id, "target": "agent"}
    return {"$or": [own, {"target": "supervisors"}]} if include_supervisor_alerts else own


def format_event(alert: dict[str, Any]) -> str:
    body = json.dumps(alert, default=_json_default, separators=(",", ":"))
    return f"id: {alert['position']}\nevent: alert\ndata: {body}\n\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


async def alert_events(alerts: AlertRepository, horizon: StreamHorizon, *, audience_filter: dict[str, Any],
                       after: int | None, keepalive_s: float, max_events: int | None,
                       max_duration_s: float | None, open_since: datetime | None = None) -> AsyncIterator[str]:
    """The SSE body: replay after ``after``, then follow; ends only on limits.

    A first connection (no ``after``) starts at the horizon, but first sends the audience's alerts that
    are still open and were raised since ``open_since``, so a desktop that connects just after its
    contact was identified still sees that contact's alerts. A reconnection with Last-Event-ID resumes
    exactly after it: every alert it missed, none twice.
    """
    position = horizon.position if after is None else after
    deadline = None if max_duration_s is None else time.monotonic() + max_duration_s
    sent = 0
    yield f": stream of alerts after position {position}\nretry: 2000\n\n"
    if after is None and open_since is not None:
        for alert in await alerts.open_since(audience_filter, since=open_since, upto=position):
            yield format_event(alert)
            sent += 1
            if max_events is not None and sent >= max_events:
                return
    limit = 100
    while True:
        upto = horizon.position
        batch = await alerts.for_stream(audience_filter, after=position, upto=upto, limit=limit)
        for alert in batch:
            yield format_event(alert)
            position = alert["position"]
            sent += 1
            if max_events is not None and sent >= max_events:
                return
        if len(batch) == limit:
            continue
        position = max(position, upto)  # everything up to ``upto`` was read: ask again only when it moves
        if horizon.position > upto:
            continue
        remaining = keepalive_s if deadline is None else min(keepalive_s, deadline - time.monotonic())
        if remaining <= 0:
            return
        before = horizon.position
        await horizon.wait_moved(remaining)
        if horizon.position == before and (deadline is None or time.monotonic() < deadline):
            yield ": keep-alive\n\n"
