"""The audit log: who read or changed personal data through a gateway, one append-only collection per service.

A route that touches personal data says so where it is declared, with ``dependencies=[audited()]`` (or on
its router): the action (``read`` for GET, ``change`` otherwise, or given, e.g. ``export``), and which
query parameters name objects besides the path's. After the answer, :class:`AuditTrail` records
``{at, actor, roles, method, route, action, ids, account_ids, status, trace_id, details}``; the route
may add what it learnt while answering (the account of a record, counts of an export) with
:func:`note_audit`. Refused calls (401, 403, 404) are recorded too: an attempt is worth knowing.

Writing never slows the request: an entry goes into a bounded queue and a background task inserts the
queue's entries in batches, waiting ``linger_s`` after the first so that requests one after another share
one insert instead of one each. A full queue or a failed write drops the entry and counts it in
``ic_audit_entries_dropped_total{reason}`` (and logs a warning), so a gap is visible. Entries are never
changed; a periodic job deletes those older than ``audit_retention_days``.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from icsuite_contracts.tracecontext import current_traceparent
from pymongo.asynchronous.database import AsyncDatabase
from starlette.types import ASGIApp, Receive, Scope, Send

from .asgi_status import StatusOf
from .clock import Clock, utc_now
from .logging import get_logger
from .metrics import AUDIT_DROPPED, AUDIT_PURGED, AUDIT_QUEUED, AUDIT_WRITTEN
from .mongo import IndexSpec

AUDIT_COLLECTION = "audit"
AUDIT_INDEXES = (IndexSpec(AUDIT_COLLECTION, [("at", -1), ("_id", -1)]),
                 IndexSpec(AUDIT_COLLECTION, [("account_ids", 1)]),
                 IndexSpec(AUDIT_COLLECTION, [("actor", 1)]))
MAX_ID_CHARS = 128
MAX_ACCOUNT_IDS = 50
WARN_EVERY_S = 10.0
_MARK, _NOTES, _PRINCIPAL, _TRACE = "audit_mark", "audit_notes", "principal", "audit_trace_id"

_log = get_logger(__name__)


@dataclass(frozen=True)
class AuditMark:
    action: str | None
    query_ids: tuple[str, ...]


def audited(*query_ids: str, action: str | None = None) -> Any:
    """A route dependency marking the route as touching personal data; ``query_ids`` name query
    parameters that identify objects (the path's parameters always do)."""
    mark = AuditMark(action, query_ids)

    async def _mark(request: Request) -> None:
        request.state.audit_mark = mark
        traceparent = current_traceparent()
        if traceparent:
            request.state.audit_trace_id = traceparent.split("-")[1]

    return Depends(_mark)


def note_audit(request: Request, *, details: dict[str, Any] | None = None, **ids: str | list[str] | None) -> None:
    """Add object ids (``account_id=...``, or a list of them) or ``details`` learnt while answering."""
    notes: dict[str, Any] = getattr(request.state, _NOTES, None) or {"ids": {}, "details": {}}
    notes["ids"].update({k: v for k, v in ids.items() if v})
    notes["details"].update(details or {})
    request.state.audit_notes = notes


async def record_now(request: Request, status: int, at: datetime) -> dict[str, Any]:
    """Write the entry of this marked request now (awaited, not queued) and keep the trail from adding it
    again; the route then answers ``status``. Raises when the database refuses it: no record, no answer."""
    entry = build_entry(request.scope, status, at)
    if entry is None:
        raise RuntimeError("record_now needs a route marked with audited()")
    await request.app.state.audit_log.write_now(entry)
    request.state.audit_mark = None
    return entry


def _clip(value: Any) -> Any:
    if isinstance(value, list):
        return [str(v)[:MAX_ID_CHARS] for v in value[:MAX_ACCOUNT_IDS]]
    return str(value)[:MAX_ID_CHARS]


def build_entry(scope: Scope, status: int, at: datetime) -> dict[str, Any] | None:
    """The audit entry of an answered request, or None when its route is not marked."""
    state = scope.get("state") or {}
    mark: AuditMark | None = state.get(_MARK)
    if mark is None:
        return None
    ids = {k: _clip(v) for k, v in (scope.get("path_params") or {}).items()}
    if mark.query_ids:
        query = _query(scope)
        ids.update({k: _clip(query[k]) for k in mark.query_ids if query.get(k)})
    notes = state.get(_NOTES) or {"ids": {}, "details": {}}
    ids.update({k: _clip(v) for k, v in notes["ids"].items()})
    principal = state.get(_PRINCIPAL)
    method = scope.get("method", "GET")
    return {
        "_id": os.urandom(16).hex(), "at": at,
        "actor": getattr(principal, "sub", None), "roles": sorted(getattr(principal, "roles", ()) or ()),
        "method": method, "route": getattr(scope.get("route"), "path", None) or scope.get("path", ""),
        "action": mark.action or ("read" if method in ("GET", "HEAD") else "change"),
        "ids": ids, "account_ids": _account_ids(ids), "status": status,
        "trace_id": state.get(_TRACE), "details": notes["details"],
    }


def _account_ids(ids: dict[str, Any]) -> list[str]:
    found = ids.get("account_id")
    found = found if isinstance(found, list) else [found] if found else []
    extra = ids.get("account_ids") or []
    return list(dict.fromkeys([*found, *extra]))[:MAX_ACCOUNT_IDS]


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return dict(parse_qsl(raw, keep_blank_values=False))


class AuditLog:
    """The bounded queue and the background writer of one service's audit collection."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, queue_size: int = 10_000, batch_size: int = 500,
                 retention_days: float = 400.0, linger_s: float = 0.0, clock: Clock = utc_now):
        self.collection = db[AUDIT_COLLECTION]
        self.retention = timedelta(days=retention_days)
        self.clock = clock
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=queue_size)
        self._batch_size = batch_size
        self._linger_s = linger_s
        self._task: asyncio.Task[None] | None = None
        self._warned_at = -WARN_EVERY_S

    def record(self, entry: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(entry)
        except asyncio.QueueFull:
            AUDIT_DROPPED.labels("queue_full").inc()
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY_S:  # counted always, logged at most every few seconds
                self._warned_at = now
                _log.warning("audit entries dropped", reason="queue_full", route=entry.get("route"))

    async def write_now(self, entry: dict[str, Any]) -> None:
        """Store ``entry`` before answering (for records that must not be lost, such as an export's)."""
        await self.collection.insert_one(entry)
        AUDIT_WRITTEN.inc()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._drain_forever(), name="audit-writer")

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Write what is queued (for at most ``timeout_s``), then stop the writer."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), timeout_s)
        except TimeoutError:
            _log.warning("audit entries left unwritten at stop", count=self._queue.qsize())
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _drain_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self._linger_s:  # the entries of the requests that follow share the insert
                await asyncio.sleep(self._linger_s)
            AUDIT_QUEUED.set(self._queue.qsize() + 1)
            while len(batch) < self._batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()
                AUDIT_QUEUED.set(self._queue.qsize())

    async def _write(self, batch: list[dict[str, Any]], attempts: int = 3) -> None:
        for attempt in range(attempts):
            try:
                await self.collection.insert_many(batch, ordered=False)
                AUDIT_WRITTEN.inc(len(batch))
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: retry a little, then count the loss
                if attempt + 1 == attempts:
                    AUDIT_DROPPED.labels("write_failed").inc(len(batch))
                    _log.warning("audit entries dropped", reason="write_failed", count=len(batch), error=repr(exc))
                    return
                await asyncio.sleep(0.2 * 2 ** attempt)

    async def purge(self) -> int:
        """Delete the entries older than the retention period (the only deletion there is)."""
        result = await self.collection.delete_many({"at": {"$lt": self.clock() - self.retention}})
        AUDIT_PURGED.inc(result.deleted_count)
        return result.deleted_count


class AuditTrail:
    """ASGI middleware: after a marked route answered, hands its entry to the audit log (never waits)."""

    def __init__(self, app: ASGIApp, log: AuditLog, clock: Callable[[], datetime] = utc_now):
        self.app = app
        self.log = log
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = StatusOf(send)
        try:
            await self.app(scope, receive, status)
        finally:
            entry = build_entry(scope, status.code, self.clock())
            if entry is not None:
                self.log.record(entry)
