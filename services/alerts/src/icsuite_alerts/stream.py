"""The alert stream: positions handed out without gaps, followed by every replica, delivered as SSE.

**Positions.** Position ``p`` is the ``_id`` of a document of ``alert_stream`` (a :class:`StreamEntry`),
and a position is taken by creating that document: an insert, so of two writers aiming at ``p`` exactly
one gets it, and the other aims at the next free one. A writer only ever aims at the position right
after the ones it has seen taken (:meth:`AlertStream.take` holds one lock per process while it aims and
writes), so there are never gaps: if ``p`` is taken, every position before it is taken or being taken
by a writer that will finish it (a retried consumer event finishes it at the position its alert names).

**Following.** Each process keeps the *horizon*, the end of the run of taken positions it has seen;
streams deliver up to it. A position is visible from the moment it is taken, so the horizon never has
to skip anything: a slow writer only holds the positions after its own back for as long as it is slow.
A local write moves the horizon at once; writes of other replicas are seen within ``poll_interval_s``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from icsuite_chassis.errors import StoreConflict
from icsuite_chassis.store import AggregateStore, Item, Outcome, Stored

from .domain.alerts import Alert, StreamEntry, decide_blank, decide_move, decide_take, entry_of
from .repository import AlertQueries

WINDOW = 64  # positions looked up per round trip
MAX_MOVES = 50  # a position lost this many times in a row: StoreConflict (retried by the consumer)


class AlertStream:
    def __init__(self, queries: AlertQueries, entries: AggregateStore[StreamEntry], alerts: AggregateStore[Alert],
                 *, poll_interval_s: float):
        self._queries = queries
        self._entries = entries
        self._alerts = alerts
        self._poll_interval_s = poll_interval_s
        self.position = 0  # every position up to here is taken and visible
        self.base = 0  # positions before the first entry belong to an earlier version: none to wait for
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._moved = asyncio.Event()

    async def start(self) -> None:
        """Continue after the last position in use (the first start continues after the alerts' positions)."""
        first = await self._queries.first_entry()
        if first is None:
            self.base = await self._queries.last_alert_position()
            if self.base:
                await self._entries.change(self.base, decide_take(StreamEntry(None, {})))
        else:
            self.base = first
        self.position = max(self.position, self.base)
        await self.advance()

    # ---- taking positions ---------------------------------------------------------------------------
    async def take(self, aim: Callable[[int], Awaitable[list[Alert]]]) -> list[Alert]:
        """``aim(first)`` stores alerts aimed at consecutive positions from ``first`` (the next free one) and
        answers the alerts to put on the stream; each then takes its position (see :meth:`put`)."""
        async with self._lock:
            alerts = await aim(self.position + 1)
            await self.put(alerts)
            return alerts

    async def put(self, alerts: Sequence[Alert]) -> None:
        """Each alert takes the position it aims at; one whose position another alert took aims at the next
        free one. A free position before the last one aimed at (an alert stored by another replica aims past
        this one's horizon, or a redelivered alert needed none) is filled with an entry without an alert, so
        that no position stays free behind a taken one. Only under this process's lock (see :meth:`take`)."""
        pending, lost = sorted(alerts, key=lambda a: a.position), set()
        for _ in range(MAX_MOVES):
            if not pending:
                return
            aimed = []
            for alert in pending:
                if alert.alert_id in lost:
                    alert = await self._move(alert, max([self.position, *(a.position for a in aimed)]) + 1)
                aimed.append(alert)
            if max(a.position for a in aimed) > self.position + len(aimed):
                await self.advance()
            holes = set(range(self.position + 1, max(a.position for a in aimed))) - {a.position for a in aimed}
            items = [Item(a.position, decide_take(entry_of(a, a.position))) for a in aimed]
            outcomes = await self._entries.change_many(
                items + [Item(p, decide_take(StreamEntry(None, {}))) for p in sorted(holes)])
            placed = {a.position for a, o in zip(aimed, outcomes, strict=False) if _holds(o, a)}
            pending = [a for a in aimed if a.position not in placed]
            lost = {a.alert_id for a in pending}
            self._advance_over(placed | holes)
            if pending:
                await self.advance()
        raise StoreConflict(f"{len(pending)} alerts kept losing their stream positions")

    async def _move(self, alert: Alert, position: int) -> Alert:
        """Aim ``alert`` at ``position`` if it still aims at the position it lost (else another replica
        moved it already: it is answered as it is now)."""
        moved = await self._alerts.change(alert.alert_id, decide_move(alert.position, position))
        return moved.stored.state if moved.stored is not None else alert

    def _advance_over(self, positions: set[int]) -> None:
        start = self.position
        while self.position + 1 in positions:
            self.position += 1
        if self.position != start:
            self._notify()
        self._wake.set()

    def _notify(self) -> None:
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    # ---- following ----------------------------------------------------------------------------------
    async def tick(self) -> None:
        """One poll (a job runs it in a loop): wait for a poke or the poll interval, then advance."""
        try:
            await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
        except TimeoutError:
            pass
        self._wake.clear()
        await self.advance()

    async def advance(self) -> None:
        """Move over the run of taken positions after the horizon (read by ``_id``, ``WINDOW`` at a time)."""
        start = self.position
        while True:
            taken = await self._queries.taken(self.position, WINDOW)
            base = self.position
            while self.position + 1 in taken:
                self.position += 1
            if self.position < base + WINDOW:
                break
        if self.position != start:
            self._notify()

    async def copies(self, alert_ids: Sequence[str]) -> int:
        """How many positions hold a copy of one of ``alert_ids``."""
        return len(await self._held(alert_ids))

    async def forget(self, alert_ids: Sequence[str]) -> int:
        """The copies of purged (or erased) alerts leave their positions (which stay taken, so no gap opens)."""
        held = await self._held(alert_ids)
        outcomes = await self._entries.change_many([Item(entry.id, decide_blank) for entry in held])
        return sum(o.changed for o in outcomes)

    async def _held(self, alert_ids: Sequence[str]) -> list[Stored[StreamEntry]]:
        if not alert_ids:
            return []
        return await self._entries.find({"alert_id": {"$in": list(alert_ids)}}, limit=len(alert_ids) * 2)

    async def wait_moved(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._moved.wait(), timeout)
        except TimeoutError:
            pass


def _holds(outcome: Outcome[StreamEntry], alert: Alert) -> bool:
    return outcome.stored is not None and outcome.stored.state.alert_id == alert.alert_id


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


async def alert_events(queries: AlertQueries, stream: AlertStream, *, audience_filter: dict[str, Any],
                       after: int | None, keepalive_s: float, max_events: int | None,
                       deadline: float | None, open_since: datetime | None = None) -> AsyncIterator[str]:
    """The SSE body: replay after ``after``, then follow; ends at ``deadline`` (monotonic) or ``max_events``.

    A first connection (no ``after``) starts at the horizon, but first sends the audience's alerts that
    are still open and were raised since ``open_since``. A reconnection with Last-Event-ID resumes exactly
    after it: every alert it missed, none twice.
    """
    position = stream.position if after is None else max(after, 0)
    sent = 0
    yield f": stream of alerts after position {position}\nretry: 2000\n\n"
    if after is None and open_since is not None:
        for alert in await queries.open_since(audience_filter, since=open_since, upto=position):
            yield format_event(alert.public())
            sent += 1
            if max_events is not None and sent >= max_events:
                return
    limit = 100
    while deadline is None or time.monotonic() < deadline:
        upto = stream.position
        batch = await queries.entries(audience_filter, after=position, upto=upto, limit=limit)
        for alert in batch:
            yield format_event(alert)
            position = alert["position"]
            sent += 1
            if max_events is not None and sent >= max_events:
                return
        if len(batch) == limit:
            continue
        position = max(position, upto)  # everything up to ``upto`` was read: ask again only when it moves
        if stream.position > upto:
            continue
        remaining = keepalive_s if deadline is None else min(keepalive_s, deadline - time.monotonic())
        if remaining <= 0:
            return
        before = stream.position
        await stream.wait_moved(remaining)
        if stream.position == before and (deadline is None or time.monotonic() < deadline):
            yield ": keep-alive\n\n"
