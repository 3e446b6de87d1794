import pytest

from icsuite_followups.domain import (
    DEFAULT_COPY_RULES,
    DEFAULT_FOLLOWUP_TYPES,
    FollowupTypeRules,
    TypeNotPermitted,
    display_area,
)

pytestmark = pytest.mark.unit

RULES = FollowupTypeRules(channels={"phone": ("phone_call", "visit"), "email": ("email",)},
                          source_types={"interaction": ("phone_call", "email"), "case": ("visit",)})


def test_a_type_permitted_by_channel_and_source_passes() -> None:
    RULES.check(channel="phone", source_type="interaction", followup_type="phone_call")


def test_the_channel_rule_is_named_when_it_refuses() -> None:
    with pytest.raises(TypeNotPermitted) as refused:
        RULES.check(channel="email", source_type="interaction", followup_type="phone_call")
    assert refused.value.rule == "followup-types[channel=email]"
    assert refused.value.permitted == ["email"]


def test_the_source_rule_is_named_when_it_refuses() -> None:
    with pytest.raises(TypeNotPermitted) as refused:
        RULES.check(channel="phone", source_type="interaction", followup_type="visit")
    assert refused.value.rule == "followup-types[source_type=interaction]"
    assert refused.value.permitted == ["phone_call", "email"]


def test_an_unlisted_channel_permits_nothing() -> None:
    with pytest.raises(TypeNotPermitted, match="channel=chat"):
        RULES.check(channel="chat", source_type="interaction", followup_type="email")
    assert RULES.permitted(channel="phone", source_type="case") == ["visit"]


def test_the_defaults_permit_the_common_cases_and_refuse_some() -> None:
    DEFAULT_FOLLOWUP_TYPES.check(channel="phone", source_type="interaction", followup_type="phone_call")
    DEFAULT_FOLLOWUP_TYPES.check(channel="email", source_type="case", followup_type="task")
    with pytest.raises(TypeNotPermitted):
        DEFAULT_FOLLOWUP_TYPES.check(channel="sms", source_type="interaction", followup_type="visit")
    assert DEFAULT_COPY_RULES.for_source("interaction").fields == ("account_id", "business_agreement_id",
                                                                   "reason_code")


@pytest.mark.parametrize(("source_type", "area"), [
    ("interaction", "activity_clipboard"), ("service_ticket", "business_context"),
    ("service_order", "business_context"), ("complaint", "business_context"), ("case", "linked_objects"),
])
def test_the_source_type_decides_the_display_area(source_type: str, area: str) -> None:
    assert display_area(source_type) == area
