"""The supervisor's reports: open callbacks by status and queue, the due or breached ones, each agent's."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import Supervisor
from icsuite_chassis.pagination import CursorParam, Limit, cursor_text, cursor_time, decode_cursor, encode_cursor

from ..domain.reports import DUE_SOON
from ..handlers import reports
from ..schemas import (
    AgentCallbacksPage, AgentCallbacksView, CallbackPage, CallbackReportView, CallbackView, QueueCount,
)
from .deps import ServiceDep

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[audited()])
WithinMinutes = Annotated[int, Query(ge=0, le=7 * 24 * 60, description="Due within this many minutes from now "
                                                                        "(0: only the breached ones).")]


@router.get("/callbacks", response_model=CallbackReportView,
            summary="Open callbacks by status and queue, the breached and due-soon counts, the oldest waiting")
async def callback_report(_: Supervisor, svc: ServiceDep) -> CallbackReportView:
    report = await reports.callback_report(svc)
    counts = [QueueCount(status=s, queue=q, count=n) for (s, q), n in sorted(report.counts.items())]
    oldest = CallbackView.of(report.oldest_waiting) if report.oldest_waiting else None
    return CallbackReportView(as_of=report.as_of, counts=counts, breached=report.breached,
                              due_soon=report.due_soon, due_soon_minutes=int(DUE_SOON.total_seconds() // 60),
                              oldest_waiting=oldest)


@router.get("/callbacks/due", response_model=CallbackPage,
            summary="Open callbacks due within a time from now, breached first, by due time")
async def due_callbacks(_: Supervisor, svc: ServiceDep, within_minutes: WithinMinutes = 30, limit: Limit = 50,
                        cursor: CursorParam = None) -> CallbackPage:
    position = decode_cursor(cursor, required_keys=("d", "i"))
    after = (cursor_time(position, "d"), cursor_text(position, "i")) if position else None
    items = await reports.at_risk_callbacks(svc, timedelta(minutes=within_minutes), limit, after)
    last = items[-1] if len(items) == limit else None
    next_cursor = encode_cursor({"d": last.due_at.isoformat(), "i": last.callback_id}) if last else None
    return CallbackPage(items=[CallbackView.of(i) for i in items], next_cursor=next_cursor)


@router.get("/open-work", response_model=AgentCallbacksPage,
            summary="Per agent, the callbacks in her inbox (claimed or retained, in progress), by agent id")
async def open_work(_: Supervisor, svc: ServiceDep, limit: Limit = 50, cursor: CursorParam = None) \
        -> AgentCallbacksPage:
    position = decode_cursor(cursor, required_keys=("a",))
    agents = await reports.open_callbacks_by_agent(svc, limit, cursor_text(position, "a") if position else None)
    next_cursor = encode_cursor({"a": agents[-1].agent_id}) if len(agents) == limit else None
    return AgentCallbacksPage(items=[AgentCallbacksView(agent_id=a.agent_id, claimed=a.claimed,
                                                        in_progress=a.in_progress) for a in agents],
                              next_cursor=next_cursor)
