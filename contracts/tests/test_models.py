from decimal import Decimal

import pydantic
import pytest
from icsuite_contracts.alerts_v1 import AlertRaised
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.identity_v1 import AccountCreated, CallerIdentified, ContactIdentified
from icsuite_contracts.interactions_v1 import NoteAdded
from icsuite_contracts.masterdata_v1 import BusinessAgreementUpserted, PremiseUpserted
from icsuite_contracts.testing import sample_event

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("number", ["+4930123456", "+12025550123", "+123456789012345"])
def test_callback_number_accepts_e164(number):
    assert sample_event(CallbackRequested, callback_number=number).callback_number == number


@pytest.mark.parametrize("number", ["030123456", "+0301234567", "+49 30 123456", "+12345", "+1234567890123456"])
def test_callback_number_refuses_anything_else(number):
    with pytest.raises(pydantic.ValidationError):
        sample_event(CallbackRequested, callback_number=number)


def test_callback_request_defaults_and_no_business_rules():
    request = CallbackRequested(request_id="cbr-1", callback_number="+4930123456", channel="ivr")

    assert (request.time_zone, request.language, request.attributes) == ("UTC", "en", {})
    usual = sample_event(CallbackRequested)
    swapped = sample_event(CallbackRequested, preferred_from=usual.preferred_to, preferred_to=usual.preferred_from)
    assert swapped.preferred_from > swapped.preferred_to  # window order is the callbacks service's rule


def test_attributes_are_bounded():
    with pytest.raises(pydantic.ValidationError):
        sample_event(CallbackRequested, attributes={f"k{i}": "v" for i in range(51)})


@pytest.mark.parametrize("raw", ["120.75", 120.75, Decimal("120.75")])
def test_money_is_read_from_numbers_and_strings(raw):
    assert sample_event(BusinessAgreementUpserted, balance=raw).balance == Decimal("120.75")


def test_money_refuses_more_precision_than_a_json_number_keeps_exactly():
    with pytest.raises(pydantic.ValidationError):
        sample_event(BusinessAgreementUpserted, balance="1234567890123.456")


def test_dunning_level_is_zero_to_nine():
    with pytest.raises(pydantic.ValidationError):
        sample_event(BusinessAgreementUpserted, dunning_level=10)


def test_note_text_is_limited_to_32_kib():
    sample_event(NoteAdded, text="x" * 32768)
    with pytest.raises(pydantic.ValidationError):
        sample_event(NoteAdded, text="x" * 32769)


@pytest.mark.parametrize("bad", ["", "x" * 129])
def test_ids_are_1_to_128_characters(bad):
    with pytest.raises(pydantic.ValidationError):
        sample_event(ContactIdentified, contact_id=bad)


def test_premise_key_is_its_first_account_else_itself():
    assert sample_event(PremiseUpserted, account_ids=["acc-1", "acc-2"]).key() == "acc-1"
    assert sample_event(PremiseUpserted, premise_id="pr-1", account_ids=[]).key() == "pr-1"


def test_identity_keys():
    assert sample_event(ContactIdentified, contact_id="ct-1").key() == "ct-1"
    assert sample_event(CallerIdentified, request_id="cbr-1").key() == "cbr-1"
    assert sample_event(AccountCreated, account_id="acc-1").key() == "acc-1"


def test_alert_key_is_the_account_else_the_alert():
    assert sample_event(AlertRaised, account_id="acc-1").key() == "acc-1"
    assert sample_event(AlertRaised, alert_id="al-1", account_id=None).key() == "al-1"
