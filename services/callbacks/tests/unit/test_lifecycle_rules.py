"""Lifecycle rules: who may act, in which state, retain versus release, retry delay, attempts, expiry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from icsuite_callbacks.domain import (
    SEED_PROFILES, Actor, CallbackRequest, IntakePolicy, InvalidRequest, NotOwner, WrongState,
)
from icsuite_callbacks.domain import lifecycle as lc
from icsuite_callbacks.domain.intake import decide_enter_inbox, new_work_item

pytestmark = [pytest.mark.unit]
NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)
ANNA, BEN = Actor("anna"), Actor("ben")
SUPERVISOR, CHANNEL = Actor("sue", supervisor=True), Actor("web", channel=True)


def queued(**routing):
    request = CallbackRequest(request_id="cbr-1", callback_number="+4930123456", channel="web",
                              account_id="acc-1", preferred_to=NOW + timedelta(hours=4))
    item, _ = decide_enter_inbox(new_work_item(request, SEED_PROFILES[0], NOW, IntakePolicy()), NOW)
    return replace(item, routing=replace(item.routing, **routing)) if routing else item


def in_progress(actor=ANNA, **routing):
    item, _ = lc.decide_claim(queued(**routing), lc.Claim(actor), NOW)
    item, _ = lc.decide_start(item, lc.Start(actor, "requested"), NOW)
    return item


def test_claim_puts_it_in_the_agents_inbox_once() -> None:
    item, [event] = lc.decide_claim(queued(), lc.Claim(ANNA), NOW)
    assert (item.status, item.owner, event.agent_id) == ("claimed", "anna", "anna")
    assert lc.decide_claim(item, lc.Claim(ANNA), NOW) == (item, [])
    with pytest.raises(WrongState):
        lc.decide_claim(item, lc.Claim(BEN), NOW)


def test_an_item_not_yet_workable_or_past_its_window_cannot_be_claimed() -> None:
    item = queued()
    with pytest.raises(WrongState, match="before"):
        lc.decide_claim(replace(item, visible_from=NOW + timedelta(minutes=1)), lc.Claim(ANNA), NOW)
    with pytest.raises(WrongState, match="window has passed"):
        lc.decide_claim(item, lc.Claim(ANNA), item.expires_at)


@pytest.mark.parametrize("action", [
    lambda item, who: lc.decide_start(item, lc.Start(who, "requested"), NOW),
    lambda item, who: lc.decide_fail(item, lc.Fail(who, True, None), NOW),
    lambda item, who: lc.decide_release(item, lc.Release(who), NOW),
    lambda item, who: lc.decide_complete(item, lc.Complete(who, "reached"), NOW),
    lambda item, who: lc.decide_cancel(item, lc.Cancel(who, None), NOW),
])
def test_only_the_owner_or_a_supervisor_acts_on_an_owned_item(action) -> None:
    claimed, _ = lc.decide_claim(queued(), lc.Claim(ANNA), NOW)
    with pytest.raises(NotOwner):
        action(claimed, BEN)


def test_start_counts_the_attempt_and_dials_the_requested_or_the_accounts_number() -> None:
    claimed, _ = lc.decide_claim(queued(), lc.Claim(ANNA), NOW)
    started, [event] = lc.decide_start(claimed, lc.Start(ANNA, "account"), NOW)
    assert (started.status, started.attempts, event.attempt) == ("in_progress", 1, 1)
    assert (event.dial_number, event.dial_source) == ("+4930123456", "requested")  # account's number unknown
    known = replace(claimed, account_number="+4940999999")
    assert lc.dial_number(known, lc.Start(ANNA, "account")) == ("+4940999999", "account")
    assert lc.dial_number(known, lc.Start(ANNA, "requested")) == ("+4930123456", "requested")
    _, [by_supervisor] = lc.decide_start(claimed, lc.Start(SUPERVISOR, "requested"), NOW)
    assert by_supervisor.agent_id == "sue"


def test_retain_keeps_owner_and_inbox_and_waits_the_retry_delay() -> None:
    item, [failed] = lc.decide_fail(in_progress(retry_delay_s=600), lc.Fail(ANNA, True, "no_answer"), NOW)
    assert (item.status, item.owner, item.visible_from) == ("claimed", "anna", NOW + timedelta(minutes=10))
    assert (failed.retain, failed.final, failed.next_attempt_at) == (True, False, NOW + timedelta(minutes=10))
    with pytest.raises(WrongState, match="before"):
        lc.decide_start(item, lc.Start(ANNA, "requested"), NOW + timedelta(minutes=9))
    again, _ = lc.decide_start(item, lc.Start(ANNA, "requested"), NOW + timedelta(minutes=10))
    assert again.attempts == 2


def test_release_clears_the_owner_and_announces_the_release() -> None:
    item, events = lc.decide_fail(in_progress(retry_delay_s=60), lc.Fail(ANNA, False, "busy"), NOW)
    assert (item.status, item.owner, item.visible_from) == ("queued", None, NOW + timedelta(seconds=60))
    assert [e.ce_type for e in events] == ["ic.callback.attempt-failed.v1", "ic.callback.released.v1"]
    with pytest.raises(WrongState):
        lc.decide_claim(item, lc.Claim(BEN), NOW)
    claimed, _ = lc.decide_claim(item, lc.Claim(BEN), NOW + timedelta(seconds=60))
    assert claimed.owner == "ben"


def test_the_last_permitted_attempt_fails_the_item() -> None:
    item, [failed] = lc.decide_fail(in_progress(max_attempts=1), lc.Fail(ANNA, True, "no_answer"), NOW)
    assert (item.status, failed.final, failed.retain, failed.next_attempt_at) == ("failed", True, False, None)
    with pytest.raises(WrongState):
        lc.decide_start(item, lc.Start(ANNA, "requested"), NOW)


def test_complete_only_after_start() -> None:
    claimed, _ = lc.decide_claim(queued(), lc.Claim(ANNA), NOW)
    with pytest.raises(WrongState):
        lc.decide_complete(claimed, lc.Complete(ANNA, "reached"), NOW)
    done, [event] = lc.decide_complete(in_progress(), lc.Complete(ANNA, "reached"), NOW)
    assert (done.status, done.outcome, event.outcome) == ("completed", "reached", "reached")
    with pytest.raises(WrongState):
        lc.decide_complete(done, lc.Complete(ANNA, "reached"), NOW)


def test_cancel_by_channel_supervisor_or_owner_never_twice() -> None:
    with pytest.raises(NotOwner):
        lc.decide_cancel(queued(), lc.Cancel(ANNA, None), NOW)  # an agent cancels only what is in her inbox
    cancelled, [event] = lc.decide_cancel(queued(), lc.Cancel(CHANNEL, "customer_called_in"), NOW)
    assert (cancelled.status, event.by, event.reason) == ("cancelled", "web", "customer_called_in")
    with pytest.raises(WrongState):
        lc.decide_cancel(cancelled, lc.Cancel(SUPERVISOR, None), NOW)
    claimed, _ = lc.decide_claim(queued(), lc.Claim(ANNA), NOW)
    assert lc.decide_cancel(claimed, lc.Cancel(ANNA, None), NOW)[0].status == "cancelled"


def test_expiry_when_the_window_has_passed_but_not_during_a_call() -> None:
    item = queued()
    assert lc.decide_expire(item, item.expires_at - timedelta(seconds=1)) == (item, [])
    expired, [event] = lc.decide_expire(item, item.expires_at)
    assert expired.status == "expired" and event.ce_type == "ic.callback.expired.v1"
    calling = in_progress()
    assert lc.decide_expire(calling, calling.expires_at + timedelta(hours=1)) == (calling, [])


def test_a_claimed_item_can_fail_before_its_call_was_started_and_that_counts_as_an_attempt() -> None:
    claimed, _ = lc.decide_claim(queued(), lc.Claim(ANNA), NOW)
    released, [failed, _released] = lc.decide_fail(claimed, lc.Fail(ANNA, False, "line busy"), NOW)
    assert (released.status, released.owner, released.attempts, failed.attempt) == ("queued", None, 1, 1)


def test_claim_next_decides_by_the_same_claim_and_skips_what_is_not_workable() -> None:
    item = queued()
    assert lc.decide_claim_next(item, lc.Claim(ANNA), NOW) == lc.decide_claim(item, lc.Claim(ANNA), NOW)
    claimed, _ = lc.decide_claim(item, lc.Claim(ANNA), NOW)
    assert lc.decide_claim_next(claimed, lc.Claim(BEN), NOW) is None                        # not queued
    assert lc.decide_claim_next(replace(item, visible_from=NOW + timedelta(minutes=1)), lc.Claim(BEN), NOW) is None
    assert lc.decide_claim_next(item, lc.Claim(BEN), item.expires_at) is None              # window passed


def test_a_channel_cancels_only_before_an_agent_claimed_it() -> None:
    assert lc.decide_cancel(queued(), lc.Cancel(CHANNEL, None), NOW)[0].status == "cancelled"
    claimed, _ = lc.decide_claim(queued(), lc.Claim(ANNA), NOW)
    with pytest.raises(WrongState, match="being worked"):
        lc.decide_cancel(claimed, lc.Cancel(CHANNEL, "changed my mind"), NOW)
    started, _ = lc.decide_start(claimed, lc.Start(ANNA), NOW)
    with pytest.raises(WrongState):
        lc.decide_cancel(started, lc.Cancel(CHANNEL, None), NOW)


def test_dial_account_dials_one_of_the_accounts_own_numbers_and_number_picks_which() -> None:
    claimed, _ = lc.decide_claim(queued(), lc.Claim(ANNA), NOW)
    own = ("+4940111111", "+4915112345678")
    started, [event] = lc.decide_start(claimed, lc.Start(ANNA, "account", account_numbers=own), NOW)
    assert (started.dial_number, event.dial_number, event.dial_source) == ("+4940111111", "+4940111111", "account")
    picked, [event] = lc.decide_start(claimed, lc.Start(ANNA, "account", "+4915112345678", own), NOW)
    assert event.dial_number == "+4915112345678"
    with pytest.raises(InvalidRequest, match="not one of the account's"):
        lc.decide_start(claimed, lc.Start(ANNA, "account", "+4930999999", own), NOW)
    with pytest.raises(InvalidRequest):
        lc.decide_start(claimed, lc.Start(ANNA, "requested", "+4940111111", own), NOW)


def test_the_requests_attributes_travel_on_the_claimed_and_started_events() -> None:
    item = replace(queued(), attributes={"campaign": "spring"})
    claimed, [claim_event] = lc.decide_claim(item, lc.Claim(ANNA), NOW)
    _, [start_event] = lc.decide_start(claimed, lc.Start(ANNA), NOW)
    assert claim_event.attributes == start_event.attributes == {"campaign": "spring"}
    _, [bare] = lc.decide_claim(queued(), lc.Claim(ANNA), NOW)
    assert bare.attributes is None
