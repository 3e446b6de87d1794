"""The suite's one clock: now in UTC, to the millisecond (what MongoDB keeps, so a stored time reads back equal).

Handlers and jobs take ``clock: Clock`` and call it; tests pass a fixed or stepping clock instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
