"""The supervisor's reports over the records: counted by the database, never read record by record."""

from __future__ import annotations

from datetime import datetime

from icsuite_chassis.store import AggregateStore

from ..domain.record import Record
from ..domain.reports import MAX_GROUPS, OPEN, DayReport, closed_within, created_within, day_of, ranked


async def _total(store: AggregateStore[Record], query: dict) -> int:
    return sum((await store.count_by(query, [])).values())


async def day_report(store: AggregateStore[Record], now: datetime, time_zone: str) -> DayReport:
    """The records of today in ``time_zone``: opened, closed by outcome and by reason, and all still open."""
    day = day_of(now, time_zone)
    outcomes = ranked(await store.count_by(closed_within(day), ["outcome"]))
    reasons = ranked(await store.count_by(closed_within(day), ["reason_code"]))
    left_off = max(0, len(outcomes) - MAX_GROUPS) + max(0, len(reasons) - MAX_GROUPS)
    return DayReport(day=day, opened=await _total(store, created_within(day)),
                     closed=sum(n for _, n in outcomes), open_now=await _total(store, OPEN),
                     by_outcome=outcomes[:MAX_GROUPS], by_reason=reasons[:MAX_GROUPS], groups_left_off=left_off)


async def open_records_by_agent(store: AggregateStore[Record], limit: int, after: str | None) -> list[tuple[str, int]]:
    """Per agent (by id), the open records she is an agent of."""
    counts = await store.count_by(OPEN, ["agent_ids"], unwind="agent_ids")
    return sorted((agent, n) for (agent,), n in counts.items() if agent and (after is None or agent > after))[:limit]
