"""Business hours of a reason profile and the next opening, in the profile's time zone.

``{time_zone, days: {mon: [["08:00", "18:00"]], ...}}``: a day without intervals (or not named) is closed; a
day may have several intervals ("08:00"-"12:00" and "13:00"-"18:00"); "24:00" ends an interval at midnight.
Wall-clock times are read in the profile's time zone on the day in question (``zoneinfo``), so an opening at
08:00 stays at 08:00 local across a daylight-saving change. A wall time that does not exist that day (the
spring gap) opens at the same distance after the gap (02:30 -> 03:30); one that happens twice (the autumn
overlap) opens at its first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import InvalidRequest

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 8
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
Interval = tuple[str, str]


@dataclass(frozen=True)
class BusinessHours:
    time_zone: str
    days: tuple[tuple[str, tuple[Interval, ...]], ...]   # (day, intervals) in week order, open days only

    @classmethod
    def of(cls, time_zone: str, days: Mapping[str, Sequence[Sequence[str]]]) -> BusinessHours:
        """Checked business hours (422 ``invalid-business-hours`` naming what is wrong)."""
        _zone(time_zone)
        unknown = sorted(set(days) - set(DAYS))
        if unknown:
            _refuse(f"unknown day {unknown[0]!r}; days are {', '.join(DAYS)}")
        week = tuple((day, _intervals(day, days[day])) for day in DAYS if days.get(day))
        if not week:
            _refuse("business hours must open on at least one day")
        return cls(time_zone, week)

    def to_doc(self) -> dict[str, Any]:
        return {"time_zone": self.time_zone, "days": {day: [list(i) for i in spans] for day, spans in self.days}}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> BusinessHours | None:
        return cls.of(doc["time_zone"], doc["days"]) if doc else None

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        return dict(self.days).get(DAYS[day.weekday()], ())


def next_opening(hours: BusinessHours, at: datetime) -> datetime:
    """``at`` when the business is open then, else the start of the next open interval (in UTC)."""
    zone = _zone(hours.time_zone)
    local_day = at.astimezone(zone).date()
    for offset in range(-1, 9):  # from the day before (an interval may end after ``at``'s local midnight)
        day = local_day + timedelta(days=offset)
        for start, end in hours.intervals_on(day):
            opens, closes = _wall(day, start, zone), _wall(day, end, zone)
            if closes > at:
                return max(opens, at).astimezone(UTC)
    raise AssertionError("checked business hours open at least once a week")  # pragma: no cover


def is_open(hours: BusinessHours, at: datetime) -> bool:
    return next_opening(hours, at) == at.astimezone(UTC)


def _wall(day: date, clock: str, zone: ZoneInfo) -> datetime:
    """The instant of a wall-clock time on ``day`` in ``zone`` (a gap's time moves forward by the gap)."""
    if clock == "24:00":
        return _wall(day + timedelta(days=1), "00:00", zone)
    hour, minute = (int(part) for part in clock.split(":"))
    wall = datetime.combine(day, time(hour, minute), tzinfo=zone)
    return wall.astimezone(UTC).astimezone(zone)  # normalises a wall time inside the spring gap


def _intervals(day: str, spans: Sequence[Sequence[str]]) -> tuple[Interval, ...]:
    if len(spans) > MAX_INTERVALS_PER_DAY:
        _refuse(f"{day} has more than {MAX_INTERVALS_PER_DAY} intervals")
    checked: list[Interval] = []
    for span in spans:
        if len(span) != 2 or not all(isinstance(c, str) and _CLOCK.match(c) for c in span):
            _refuse(f"{day}: an interval is two times HH:MM (00:00 to 24:00), not {list(span)!r}")
        start, end = span[0], span[1]
        if start == "24:00" or start >= end:
            _refuse(f"{day}: the interval {start}-{end} must start before it ends (split one past midnight)")
        checked.append((start, end))
    checked.sort()
    for (_, end), (start, _) in zip(checked, checked[1:], strict=False):
        if start < end:
            _refuse(f"{day}: the intervals overlap at {start}")
    return tuple(checked)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        _refuse(f"time_zone {name!r} is not an IANA time zone")
        raise  # pragma: no cover


def _refuse(detail: str) -> None:
    raise InvalidRequest(f"business_hours: {detail}", reason="invalid-business-hours")
