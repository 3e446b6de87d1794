import pytest

from icsuite_identity.domain.normalize import (
    InvalidInput,
    classify_contact_address,
    fold,
    name_tokens,
    normalize_email,
    normalize_postcode,
    normalize_street,
    phone_to_e164,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("raw", ["+4930123456", "030 123456", "+49 (0)30 123456", "0049 30 123456",
                                 "tel:+49-30-123456", " 030/123456 "])
def test_german_numbers_in_any_writing_become_one_e164(raw):
    assert phone_to_e164(raw, "DE") == "+4930123456"


def test_a_number_without_country_code_is_read_in_the_default_region():
    assert phone_to_e164("(650) 253-0000", "US") == "+16502530000"
    assert phone_to_e164("01 5123456", "AT") == "+4315123456"


@pytest.mark.parametrize("raw", ["", "abc", "12", "+", "+49", "+999 1234567", "0" * 40, "$ne"])
def test_malformed_numbers_are_refused(raw):
    with pytest.raises(InvalidInput) as caught:
        phone_to_e164(raw, "DE")
    assert caught.value.field == "phone"


def test_email_is_trimmed_and_lower_cased():
    assert normalize_email("  Erika.Mustermann@Example.ORG ") == "erika.mustermann@example.org"
    assert normalize_email("mailto:Max@example.org") == "max@example.org"


@pytest.mark.parametrize("raw", ["erika", "erika@", "@example.org", "a@b", "a b@example.org", "a@@example.org"])
def test_malformed_emails_are_refused(raw):
    with pytest.raises(InvalidInput):
        normalize_email(raw)


def test_names_fold_case_and_accents():
    assert fold("Müller-Lüdenscheidt") == "muller ludenscheidt"
    assert fold("ÉLODIE Çelik") == "elodie celik"
    assert fold("Strauß") == "strauss"
    assert name_tokens("Erika  ERIKA Mustermann") == ["erika", "mustermann"]


def test_postcodes_and_streets_compare_loosely():
    assert normalize_postcode(" sw1a 1aa ") == "sw1a1aa"
    assert normalize_street("Hauptstraße 5") == normalize_street("hauptstr. 5") == "hauptstrasse 5"
    assert normalize_street("Hauptstrasse  5") == "hauptstrasse 5"


def test_contact_addresses_are_classified():
    phone = classify_contact_address("030 123456", "DE")
    email = classify_contact_address("Erika@Example.org", "DE")
    assert (phone.kind, phone.value) == ("phone", "+4930123456")
    assert (email.kind, email.value) == ("email", "erika@example.org")
    assert classify_contact_address("chat-user-17x", "DE") is None
    assert classify_contact_address("not@an-address", "DE") is None
