"""Callback numbers checked with phonenumbers; intake counted per caller and per number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.errors import problem_kind

from icsuite_callbacks.domain import InvalidRequest
from icsuite_callbacks.domain.numbers import check_callback_number
from icsuite_callbacks.domain.rates import IntakeRateLimited, RateLimit, decide_count

pytestmark = [pytest.mark.unit]
NOW = datetime(2025, 3, 2, 9, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(("number", "reason"), [
    ("+499001234567", "refused-premium-rate"), ("+4918012345", "refused-shared-cost"),
    ("+881612345678", "refused-satellite"), ("+4990012345678", "invalid-number"), ("+49 30 123456", "not-e164"),
    ("030123456", "not-e164"),
])
def test_a_number_that_is_not_callable_is_refused_naming_why(number: str, reason: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_callback_number(number)
    assert refused.value.extensions["reason"] == reason and problem_kind(refused.value).status == 422


@pytest.mark.parametrize("number", ["+4930123456", "+4915112345678", "+12125550123", "+442071838750"])
def test_real_fixed_and_mobile_numbers_pass(number: str) -> None:
    check_callback_number(number)


def test_the_refused_types_are_a_setting() -> None:
    check_callback_number("+499001234567", refused=("satellite",))
    with pytest.raises(InvalidRequest, match="mobile"):
        check_callback_number("+4915112345678", refused=("mobile",))


def test_a_window_counts_up_to_its_limit_then_says_when_to_come_back() -> None:
    limit = RateLimit("caller", 2, 60)
    assert limit.counter("web-site") == "caller:web-site"
    first = decide_count(None, limit, NOW)
    assert first.expires_at == NOW + timedelta(seconds=60)
    second = decide_count(first, limit, NOW + timedelta(seconds=10))
    with pytest.raises(IntakeRateLimited) as limited:
        decide_count(second, limit, NOW + timedelta(seconds=30))
    assert limited.value.retry_after_s == 30 and problem_kind(limited.value).status == 429
    assert decide_count(second, limit, NOW + timedelta(seconds=60)).count == 1   # the window ended: afresh
