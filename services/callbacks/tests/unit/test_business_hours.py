"""Business hours (issue 17): the next opening in the profile's time zone across daylight-saving changes, days
with several intervals and closed days; requests wait for it, a failed attempt's retry too."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icsuite_chassis.testing import SettableClock

from icsuite_callbacks import handlers
from icsuite_callbacks.domain import SEED_PROFILES, Actor, CallbackRequest, IntakePolicy, InvalidRequest, ReasonProfile
from icsuite_callbacks.domain import lifecycle as lc
from icsuite_callbacks.domain.hours import BusinessHours, is_open, next_opening
from icsuite_callbacks.domain.intake import decide_intake
from icsuite_callbacks.jobs import run_due_transitions
from icsuite_callbacks.repository import ProfileCodec, WorkItemCodec

from .test_handlers import request, service

pytestmark = [pytest.mark.unit]
BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
OFFICE = BusinessHours.of("Europe/Berlin", {"mon": [["08:00", "12:00"], ["13:00", "18:00"]],
                                            "tue": [["08:00", "18:00"]], "wed": [["08:00", "18:00"]],
                                            "thu": [["08:00", "18:00"]], "fri": [["08:00", "16:00"]]})


def at(text: str, zone=UTC) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(("now", "opens"), [
    (at("2025-03-04 10:00", BERLIN), at("2025-03-04 10:00", BERLIN)),    # open: now
    (at("2025-03-03 12:30", BERLIN), at("2025-03-03 13:00", BERLIN)),    # the lunch break of a two-interval day
    (at("2025-03-03 18:00", BERLIN), at("2025-03-04 08:00", BERLIN)),    # an interval's end is not open
    (at("2025-03-07 17:00", BERLIN), at("2025-03-10 08:00", BERLIN)),    # Friday after 16:00: closed weekend
    (at("2025-03-08 09:00", BERLIN), at("2025-03-10 08:00", BERLIN)),
    (at("2025-03-03 06:59", UTC), at("2025-03-03 08:00", BERLIN)),       # CET: 07:00 UTC
])
def test_next_opening(now: datetime, opens: datetime) -> None:
    assert next_opening(OFFICE, now) == opens.astimezone(UTC)


def test_the_opening_stays_at_local_wall_time_across_daylight_saving_changes() -> None:
    # Berlin: summer time from Sunday 2025-03-30 02:00 (+01:00 -> +02:00), back on Sunday 2025-10-26 03:00
    assert next_opening(OFFICE, at("2025-03-28 17:00", BERLIN)) == at("2025-03-31 06:00")   # 08:00 CEST
    assert next_opening(OFFICE, at("2025-03-21 17:00", BERLIN)) == at("2025-03-24 07:00")   # 08:00 CET
    assert next_opening(OFFICE, at("2025-10-24 17:00", BERLIN)) == at("2025-10-27 07:00")   # 08:00 CET again
    assert next_opening(OFFICE, at("2025-10-27 06:30")) == at("2025-10-27 07:00")          # not 06:00 (CEST)
    new_york = BusinessHours.of("America/New_York", {"mon": [["09:00", "17:00"]]})
    assert next_opening(new_york, at("2025-03-08 12:00")) == at("2025-03-10 13:00")         # EDT since Mar 9
    assert next_opening(new_york, at("2025-11-01 12:00")) == at("2025-11-03 14:00")         # EST since Nov 2


def test_wall_times_inside_the_gap_and_the_overlap() -> None:
    night = BusinessHours.of("Europe/Berlin", {"sun": [["02:30", "04:00"]]})
    assert next_opening(night, at("2025-03-29 20:00")) == at("2025-03-30 01:30")  # 02:30 does not exist: 03:30 CEST
    assert next_opening(night, at("2025-10-25 20:00")) == at("2025-10-26 00:30")  # 02:30 twice: the first one
    assert next_opening(night, at("2025-10-26 03:00")) == at("2025-11-02 01:30")  # 04:00 CET passed: a week on


def test_an_interval_to_midnight_and_the_day_before() -> None:
    late = BusinessHours.of("Europe/Berlin", {"fri": [["20:00", "24:00"]]})
    assert is_open(late, at("2025-03-07 23:59", BERLIN))
    assert next_opening(late, at("2025-03-08 00:00", BERLIN)) == at("2025-03-14 20:00", BERLIN).astimezone(UTC)
    # a time in New York whose Berlin day is already the next: the Berlin interval of the day before still counts
    assert is_open(late, at("2025-03-07 17:30", NEW_YORK))   # 23:30 in Berlin


@pytest.mark.parametrize(("time_zone", "days", "why"), [
    ("Mars/Olympus", {"mon": [["08:00", "18:00"]]}, "IANA"),
    ("Europe/Berlin", {}, "at least one day"),
    ("Europe/Berlin", {"mon": []}, "at least one day"),
    ("Europe/Berlin", {"mon": [["18:00", "08:00"]]}, "start before"),
    ("Europe/Berlin", {"mon": [["08:00", "12:00"], ["11:00", "13:00"]]}, "overlap"),
    ("Europe/Berlin", {"mon": [["8:00", "12:00"]]}, "HH:MM"),
    ("Europe/Berlin", {"mon": [["24:00", "24:00"]]}, "start before"),
    ("Europe/Berlin", {"monday": [["08:00", "12:00"]]}, "unknown day"),
])
def test_bad_business_hours_are_refused_naming_why(time_zone: str, days: dict, why: str) -> None:
    with pytest.raises(InvalidRequest, match=why) as refused:
        BusinessHours.of(time_zone, days)
    assert refused.value.extensions["reason"] == "invalid-business-hours"


def test_hours_survive_the_codecs() -> None:
    profile = replace(SEED_PROFILES[0], business_hours=OFFICE, language="de")
    assert ProfileCodec().decode(ProfileCodec().encode(profile)) == profile
    item, _ = decide_intake(CallbackRequest("cbr-1", "+4930123456", "web", account_id="acc-1"), profile, None,
                            at("2025-03-04 10:00"), IntakePolicy())
    assert WorkItemCodec().decode(WorkItemCodec().encode(item)) == item


def _profile(hours: BusinessHours = OFFICE) -> ReasonProfile:
    return ReasonProfile("office", "callback", 1, 60, "general", None, 3, 600.0, business_hours=hours)


def test_a_request_outside_business_hours_is_scheduled_until_the_opening() -> None:
    friday_night = at("2025-03-07 21:00", BERLIN)
    item, [queued] = decide_intake(CallbackRequest("cbr-1", "+4930123456", "web", account_id="acc-1"), _profile(),
                                   None, friday_night, IntakePolicy())
    monday = at("2025-03-10 08:00", BERLIN).astimezone(UTC)
    assert (item.status, item.visible_from, queued.scheduled_for) == ("scheduled", monday, monday)
    assert item.due_at == monday + timedelta(minutes=60)


def test_the_customers_window_in_their_own_time_zone_meets_the_profiles_hours() -> None:
    monday_early = at("2025-03-10 06:00", NEW_YORK)             # 11:00 in Berlin
    wants = CallbackRequest("cbr-1", "+12125550123", "web", account_id="acc-1", time_zone="America/New_York",
                            preferred_from=at("2025-03-10 09:00", NEW_YORK),   # 14:00 in Berlin: open
                            preferred_to=at("2025-03-10 12:00", NEW_YORK))     # 17:00 in Berlin
    item, _ = decide_intake(wants, _profile(), None, monday_early, IntakePolicy())
    assert (item.status, item.visible_from) == ("scheduled", at("2025-03-10 13:00"))
    assert item.expires_at == at("2025-03-10 16:00")
    too_late = replace(wants, preferred_from=at("2025-03-10 13:00", NEW_YORK), preferred_to=at("2025-03-10 14:00",
                                                                                               NEW_YORK))
    with pytest.raises(InvalidRequest) as refused:                 # 19:00-20:00 in Berlin: closed
        decide_intake(too_late, _profile(), None, monday_early, IntakePolicy())
    assert refused.value.extensions["reason"] == "outside-business-hours"


def test_a_failed_attempt_is_retried_at_the_next_opening() -> None:
    near_closing = at("2025-03-07 15:55", BERLIN)
    item, _ = decide_intake(CallbackRequest("cbr-1", "+4930123456", "web", account_id="acc-1"), _profile(), None,
                            near_closing, IntakePolicy())
    item, _ = lc.decide_claim(item, lc.Claim(Actor("anna")), near_closing)
    failed, [event, *_] = lc.decide_fail(item, lc.Fail(Actor("anna"), retain=True), near_closing)
    monday = at("2025-03-10 08:00", BERLIN).astimezone(UTC)
    assert (failed.status, failed.visible_from, event.next_attempt_at) == ("claimed", monday, monday)


async def test_the_scheduler_queues_it_at_the_opening_not_before() -> None:
    clock = SettableClock(at("2025-03-07 21:00", BERLIN))
    svc = service(clock)
    await handlers.put_profile(svc, _profile())
    callback_id = (await handlers.submit_request(svc, request(1, reason_code="office"))).callback_id
    clock.now = at("2025-03-10 07:59", BERLIN)
    await run_due_transitions(svc)
    assert (await handlers.get_callback(svc, callback_id)).status == "scheduled"
    assert await handlers.claim_next(svc, Actor("anna")) is None
    clock.now = at("2025-03-10 08:00", BERLIN)
    await run_due_transitions(svc)
    assert (await handlers.get_callback(svc, callback_id)).status == "queued"
    assert (await handlers.claim_next(svc, Actor("anna"))).callback_id == callback_id
