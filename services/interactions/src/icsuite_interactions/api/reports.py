"""The supervisor's reports: today's records by outcome and reason, each agent's open records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import Supervisor
from icsuite_chassis.pagination import CursorParam, Limit, cursor_text, decode_cursor, encode_cursor

from ..handlers import reports
from ..schemas import AgentOpenRecords, AgentOpenRecordsPage, DayReportOut, GroupCount
from .deps import Service

router = APIRouter(prefix="/v1/reports", tags=["reports"], dependencies=[audited()])
TimeZone = Annotated[str, Query(min_length=1, max_length=64, description="The IANA time zone of the day.",
                                examples=["Europe/Berlin"])]


@router.get("/interactions/today", response_model=DayReportOut,
            summary="Today's records (in a time zone): opened, closed by outcome and by reason; open now")
async def today(_: Supervisor, service: Service, time_zone: TimeZone = "UTC") -> DayReportOut:
    report = await reports.day_report(service.store, service.clock(), time_zone)
    return DayReportOut(day=report.day.day.isoformat(), time_zone=time_zone, start=report.day.start,
                        end=report.day.end, opened=report.opened, closed=report.closed, open_now=report.open_now,
                        by_outcome=[GroupCount(code=c, count=n) for c, n in report.by_outcome],
                        by_reason=[GroupCount(code=c, count=n) for c, n in report.by_reason],
                        groups_left_off=report.groups_left_off)


@router.get("/open-work", response_model=AgentOpenRecordsPage,
            summary="Per agent (by id), the open records she is an agent of")
async def open_work(_: Supervisor, service: Service, limit: Limit = 50,
                    cursor: CursorParam = None) -> AgentOpenRecordsPage:
    position = decode_cursor(cursor, required_keys=("a",))
    agents = await reports.open_records_by_agent(service.store, limit,
                                                 cursor_text(position, "a") if position else None)
    next_cursor = encode_cursor({"a": agents[-1][0]}) if len(agents) == limit else None
    return AgentOpenRecordsPage(items=[AgentOpenRecords(agent_id=a, open_interactions=n) for a, n in agents],
                                next_cursor=next_cursor)
