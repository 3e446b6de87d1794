"""The day of a report and its ranking: pure functions of the domain."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from icsuite_chassis.errors import InvalidError

from icsuite_interactions.domain.reports import day_of, ranked

pytestmark = [pytest.mark.unit]


def test_the_day_is_the_calendar_day_in_the_time_zone_as_a_half_open_interval_in_utc() -> None:
    late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    berlin = day_of(late, "Europe/Berlin")
    assert berlin.day == date(2026, 12, 8)
    assert (berlin.start, berlin.end) == (datetime(2026, 12, 7, 23, tzinfo=UTC), datetime(2026, 12, 8, 23, tzinfo=UTC))
    assert day_of(late, "UTC").day == date(2026, 12, 7)
    for bad in ("Mars/Base", "../etc/passwd", ""):
        with pytest.raises(InvalidError):
            day_of(late, bad)


def test_groups_rank_by_count_then_by_name_with_the_unnamed_last() -> None:
    assert ranked({("b",): 2, (None,): 2, ("a",): 2, ("c",): 5}) == [("c", 5), ("a", 2), ("b", 2), (None, 2)]
