"""What the supervisor's reports count: the records of one calendar day in a time zone, the open ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icsuite_chassis.errors import InvalidError

MAX_GROUPS = 200
"""At most this many outcomes (reasons) are named in a day's report; the rest are counted as left off."""


@dataclass(frozen=True)
class Day:
    """One calendar day in a time zone, as the half-open interval [start, end)."""

    day: date
    time_zone: str
    start: datetime
    end: datetime


def day_of(now: datetime, time_zone: str) -> Day:
    """The day ``now`` falls on in ``time_zone`` (an IANA name; 422 ``unknown-time-zone`` for another)."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidError(f"unknown time zone {time_zone!r}; give an IANA name such as Europe/Berlin",
                           code="unknown-time-zone") from None
    local = now.astimezone(zone).date()
    start = datetime.combine(local, time(0), zone)
    end = datetime.combine(local + timedelta(days=1), time(0), zone)
    return Day(local, time_zone, start.astimezone(now.tzinfo), end.astimezone(now.tzinfo))


def closed_within(day: Day) -> dict[str, Any]:
    return {"status": "closed", "closed_at": {"$gte": day.start, "$lt": day.end}}


def created_within(day: Day) -> dict[str, Any]:
    return {"created_at": {"$gte": day.start, "$lt": day.end}}


OPEN: dict[str, Any] = {"status": "open"}


@dataclass(frozen=True)
class DayReport:
    day: Day
    opened: int
    closed: int
    open_now: int
    by_outcome: list[tuple[str | None, int]]
    by_reason: list[tuple[str | None, int]]
    groups_left_off: int


def ranked(counts: dict[tuple[Any, ...], int]) -> list[tuple[Any, int]]:
    """Groups by count, most first, then by name (no name last)."""
    return sorted(((key[0], n) for key, n in counts.items()), key=lambda g: (-g[1], g[0] is None, g[0] or ""))
