"""The tests' settable clock stands still until a test sets it or moves it on."""

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.testing import SettableClock

pytestmark = [pytest.mark.unit]
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_it_answers_the_time_it_was_set_to_until_moved() -> None:
    clock = SettableClock(T0)
    assert clock() == clock() == T0
    clock.advance(5)
    assert clock() == T0 + timedelta(seconds=5)
    clock.advance(minutes=2, days=1)
    assert clock() == T0 + timedelta(days=1, minutes=2, seconds=5)
    clock.now = T0
    assert clock() == T0
