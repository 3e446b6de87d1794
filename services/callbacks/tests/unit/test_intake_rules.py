"""Intake rules: the number, the window, the time zone; routing; the identification wait."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from icsuite_callbacks.domain import (
    SEED_PROFILES,
    CallbackRequest,
    CallerIdentity,
    IntakePolicy,
    InvalidRequest,
    ReasonProfile,
    check_request,
    choose_profile,
    new_work_item,
)
from icsuite_callbacks.domain.intake import decide_enter_inbox as enter_inbox
from icsuite_callbacks.domain.intake import decide_identified as settle_identification
from icsuite_callbacks.domain.intake import decide_open_window as open_window

pytestmark = [pytest.mark.unit]
NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)
POLICY = IntakePolicy(max_window_days=30, default_window_hours=72, identification_wait_s=5)
DEFAULT = SEED_PROFILES[0]


def request(**fields) -> CallbackRequest:
    return CallbackRequest(**{"request_id": "cbr-1", "callback_number": "+4930123456", "channel": "web",
                              **fields})


@pytest.mark.parametrize(("fields", "message"), [
    ({"callback_number": "030123456"}, "E.164"),
    ({"callback_number": "+0301234567"}, "E.164"),
    ({"callback_number": "+49 30 123456"}, "E.164"),
    ({"callback_number": "+49301234567890123"}, "E.164"),
    ({"time_zone": "Europe/Atlantis"}, "time zone"),
    ({"preferred_from": NOW + timedelta(hours=2), "preferred_to": NOW + timedelta(hours=1)}, "start before"),
    ({"preferred_from": NOW + timedelta(hours=1), "preferred_to": NOW + timedelta(hours=1)}, "start before"),
    ({"preferred_to": NOW - timedelta(minutes=1)}, "past"),
    ({"preferred_to": NOW + timedelta(days=30, minutes=1)}, "30 days"),
    ({"preferred_from": NOW + timedelta(days=31)}, "30 days"),
])
def test_a_request_breaking_a_rule_is_refused_with_the_rule(fields, message) -> None:
    with pytest.raises(InvalidRequest, match=message):
        check_request(request(**fields), NOW, POLICY)


@pytest.mark.parametrize("fields", [
    {},
    {"preferred_from": NOW - timedelta(hours=1), "preferred_to": NOW + timedelta(hours=1)},  # open now
    {"preferred_from": NOW + timedelta(days=29), "preferred_to": NOW + timedelta(days=30)},
    {"time_zone": "America/New_York", "callback_number": "+12125550123"},
])
def test_a_valid_request_passes(fields) -> None:
    check_request(request(**fields), NOW, POLICY)


def test_a_known_reason_routes_by_its_profile_else_by_the_default() -> None:
    billing = next(p for p in SEED_PROFILES if p.reason_code == "billing_question")
    assert choose_profile("billing_question", billing, DEFAULT) is billing
    assert choose_profile("unknown", None, DEFAULT) is DEFAULT
    assert choose_profile(None, None, DEFAULT) is DEFAULT
    assert choose_profile(None, None, None).reason_code == "default"  # even without a stored default


def test_with_an_account_the_item_enters_the_general_inbox_at_once() -> None:
    profile = ReasonProfile("vip", "vip_callback", 9, 30, "vip", "vip", 4, 60.0)
    item, events = enter_inbox(new_work_item(request(account_id="acc-1", reason_code="vip"), profile, NOW,
                                             POLICY), NOW)
    assert (item.status, item.routing.profile, item.routing.priority) == ("queued", "vip", 9)
    assert item.due_at == NOW + timedelta(minutes=30) and item.expires_at == NOW + timedelta(hours=72)
    [queued] = events
    assert (queued.profile, queued.priority, queued.scheduled_for, queued.task_type) == ("vip", 9, None,
                                                                                         "vip_callback")


def test_a_future_window_schedules_the_item_and_due_time_never_passes_the_window_end() -> None:
    start, end = NOW + timedelta(hours=2), NOW + timedelta(hours=3)
    item, [queued] = enter_inbox(new_work_item(request(account_id="acc-1", preferred_from=start,
                                                       preferred_to=end), DEFAULT, NOW, POLICY), NOW)
    assert (item.status, item.visible_from, item.due_at, item.expires_at) == ("scheduled", start, end, end)
    assert queued.scheduled_for == start
    assert open_window(item, start - timedelta(seconds=1)) == (item, [])
    opened, [again] = open_window(item, start)
    assert opened.status == "queued" and again.scheduled_for is None


def test_without_an_account_the_item_waits_for_identification() -> None:
    item = new_work_item(request(), DEFAULT, NOW, POLICY)
    assert (item.status, item.identification) == ("scheduled", "pending")
    assert item.identify_until == NOW + timedelta(seconds=5)
    assert enter_inbox(item, NOW) == (item, [])  # not before the wait ends
    assert open_window(item, NOW + timedelta(hours=1)) == (item, [])


def test_identified_by_number_the_item_gets_the_account_and_its_number() -> None:
    waiting = new_work_item(request(), DEFAULT, NOW, POLICY)
    item, [queued] = settle_identification(waiting, CallerIdentity("acc-9", ("acc-9",), "+4930123456"), NOW)
    assert (item.status, item.identification, item.account_id, item.account_number) == (
        "queued", "identified", "acc-9", "+4930123456")
    assert queued.account_id == "acc-9"
    assert settle_identification(item, CallerIdentity("acc-other"), NOW) == (item, [])  # settled once


def test_no_match_or_no_answer_goes_on_unidentified() -> None:
    waiting = new_work_item(request(), DEFAULT, NOW, POLICY)
    ambiguous, _ = settle_identification(waiting, CallerIdentity(None, ("acc-1", "acc-2")), NOW)
    timed_out, [queued] = settle_identification(waiting, None, NOW + timedelta(seconds=5))
    assert (ambiguous.identification, ambiguous.candidates, ambiguous.status) == ("unidentified",
                                                                                  ("acc-1", "acc-2"), "queued")
    assert (timed_out.identification, timed_out.account_id, queued.account_id) == ("unidentified", None, None)


def test_an_answer_after_the_wait_still_links_an_open_item_once_as_one_more_event() -> None:
    waiting = new_work_item(request(), DEFAULT, NOW, POLICY)
    unidentified, _ = settle_identification(waiting, None, NOW + timedelta(seconds=5))   # the wait is over
    late = CallerIdentity("acc-9", ("acc-9",), "+4930123456")
    linked, [event] = settle_identification(unidentified, late, NOW + timedelta(seconds=9))
    assert (linked.status, linked.identification, linked.account_id) == ("queued", "identified", "acc-9")
    assert (event.ce_type, event.account_id, event.candidates) == ("ic.callback.identified.v1", "acc-9", ["acc-9"])
    assert settle_identification(linked, CallerIdentity("acc-other"), NOW) == (linked, [])      # linked once
    closed = replace(unidentified, status="completed")
    assert settle_identification(closed, late, NOW) == (closed, [])                          # not after completion
