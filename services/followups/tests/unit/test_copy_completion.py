"""Copying control completed later: what an interaction's events tell after the follow-up was created."""

from datetime import UTC, datetime, timedelta

import pytest

from icsuite_followups.repository import FollowupCodec
from icsuite_followups.domain import (
    Actor,
    COPYING_CONTROL,
    DEFAULT_FOLLOWUP_TYPES,
    CopyRule,
    CopyRules,
    FieldsChanged,
    NewFollowup,
    SourceSnapshot,
    decide_change,
    decide_complete_copy,
    decide_create,
)

pytestmark = pytest.mark.unit
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=1)
RULE = CopyRule(fields=("account_id", "business_agreement_id", "premise_id", "reason_code"), note_types=())
RULES = CopyRules(source_types={"interaction": RULE, "case": RULE})
LINKED = SourceSnapshot(fields={"account_id": "acc-1", "business_agreement_id": "ba-1", "premise_id": "pr-1",
                                "reason_code": "billing"})


def _create(source_type: str = "interaction", source: SourceSnapshot = SourceSnapshot.empty(), **requested):
    cmd = NewFollowup(source_type=source_type, source_id="src-1", type="task", channel="phone", requested=requested)
    followup, _ = decide_create(cmd, followup_id="fu-1", author="a-9", now=NOW, note_ids=[],
                                  type_rules=DEFAULT_FOLLOWUP_TYPES, copy_rules=RULES, source=source)
    return followup


def test_a_follow_up_awaits_the_account_bound_fields_its_interaction_did_not_know() -> None:
    assert _create().awaiting_copy == ("account_id", "business_agreement_id", "premise_id")
    assert _create(business_agreement_id="ba-own").awaiting_copy == ("account_id", "premise_id")
    assert _create(source=LINKED).awaiting_copy == ()
    assert _create("case").awaiting_copy == ()  # no topic tells anything about cases


def test_the_account_learned_later_is_copied_with_one_change() -> None:
    followup = _create()
    completed, events = decide_complete_copy(followup, RULE, LINKED, now=LATER)
    assert (completed.account_id, completed.parties["business_agreement_id"]) == ("acc-1", "ba-1")
    assert completed.parties["reason_code"] is None  # not awaited: the call's reason is not identification
    assert events == [FieldsChanged(("account_id", "business_agreement_id", "premise_id"), LATER, COPYING_CONTROL)]
    assert completed.version == followup.version + 1 and completed.awaiting_copy == ()
    assert completed.copied_fields == ("account_id", "business_agreement_id", "premise_id")
    assert decide_complete_copy(completed, RULE, LINKED, now=LATER)[1] == []  # a second run changes nothing


def test_what_the_source_still_does_not_know_stays_awaited() -> None:
    completed, events = decide_complete_copy(_create(), RULE, SourceSnapshot(fields={"account_id": "acc-1"}), now=LATER)
    assert events[0].changed == ("account_id",) and completed.awaiting_copy == ("business_agreement_id", "premise_id")


def test_a_value_an_agent_set_or_cleared_is_never_replaced() -> None:
    followup = _create()
    changed, _ = decide_change(followup, {"account_id": "acc-own"}, actor=Actor("a-1", True), now=NOW)
    completed, events = decide_complete_copy(changed, RULE, LINKED, now=LATER)
    assert events == [] and completed.account_id == "acc-own"  # another account's agreement is not copied either
    cleared, _ = decide_change(changed, {"account_id": None}, actor=Actor("a-1", True), now=NOW)
    assert decide_complete_copy(cleared, RULE, LINKED, now=LATER)[1] == [] and cleared.account_id is None


def test_a_completed_follow_up_still_gets_its_account() -> None:
    done, _ = decide_change(_create(), {"status": "completed"}, actor=Actor("a-1", True), now=NOW)
    completed, events = decide_complete_copy(done, RULE, LINKED, now=LATER)
    assert completed.status == "completed" and completed.account_id == "acc-1" and len(events) == 1


def test_a_field_the_rule_no_longer_copies_is_not_copied() -> None:
    rule = CopyRule(fields=("business_agreement_id",), note_types=())
    completed, events = decide_complete_copy(_create(), rule, LINKED, now=LATER)
    assert events[0].changed == ("business_agreement_id",) and completed.account_id is None
    assert completed.awaiting_copy == ()


def test_the_awaited_fields_are_stored() -> None:
    followup = _create()
    assert FollowupCodec().decode(FollowupCodec().encode(followup)).awaiting_copy == followup.awaiting_copy
