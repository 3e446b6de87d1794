"""Intake rate limits: at most ``limit`` requests per caller (or per number) in a window.

One counter per key; its window starts with the first request and lasts ``window_s``. The store counts it
(one guarded write per request), so the limit holds across replicas. A counter whose window has ended is
started afresh, and the database's TTL index removes it meanwhile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from icsuite_chassis.errors import RateLimitedError


class IntakeRateLimited(RateLimitedError):
    """Too many requests from one caller or for one number in the window: 429 with Retry-After."""


@dataclass(frozen=True)
class RateLimit:
    scope: str          # "caller" or "number": what is counted
    limit: int
    window_s: int

    def counter(self, key: str) -> str:
        return f"{self.scope}:{key}"


@dataclass(frozen=True)
class RateCount:
    count: int
    expires_at: datetime   # the end of the counter's window


def decide_count(current: RateCount | None, limit: RateLimit, now: datetime) -> RateCount:
    """One more request in the window, or :class:`IntakeRateLimited` naming when to come back."""
    if current is None or current.expires_at <= now:
        return RateCount(1, now + timedelta(seconds=limit.window_s))
    if current.count >= limit.limit:
        retry_after = max(1, math.ceil((current.expires_at - now) / timedelta(seconds=1)))
        raise IntakeRateLimited(f"too many callback requests for this {limit.scope}: at most {limit.limit} in "
                                f"{limit.window_s} s; try again in {retry_after} s", retry_after_s=retry_after,
                                scope=limit.scope)
    return RateCount(current.count + 1, current.expires_at)
