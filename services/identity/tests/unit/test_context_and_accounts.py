from datetime import UTC, datetime

import pytest

from icsuite_identity.domain.accounts import (
    ExistingAccount,
    account_from_snapshot,
    find_duplicate,
    new_account,
)
from icsuite_identity.domain.context import (
    AgreementView,
    Mismatch,
    PremiseView,
    check_belongs_together,
    identify_automatically,
)
from icsuite_identity.domain.keys import email_key, full_name_key, phone_key
from icsuite_identity.domain.normalize import ContactAddress, InvalidInput

pytestmark = pytest.mark.unit
AT = datetime(2025, 3, 1, 9, 15, tzinfo=UTC)
PHONE = ContactAddress("phone", "+4930123456")


def test_one_match_identifies_several_are_candidates_none_is_recorded():
    one = identify_automatically(PHONE, ["acc-1"], AT)
    several = identify_automatically(ContactAddress("email", "x@example.org"), ["acc-1", "acc-2", "acc-1"], AT)
    none = identify_automatically(PHONE, [], AT)
    assert (one.outcome, one.account_id, one.method) == ("identified", "acc-1", "auto_number")
    assert (several.outcome, several.account_id, several.candidates, several.method) == (
        "ambiguous", None, ("acc-1", "acc-2"), "auto_email")
    assert (none.outcome, none.account_id, none.candidates) == ("not_found", None, ())
    assert identify_automatically(None, [], AT).outcome == "not_attempted"
    hinted = identify_automatically(PHONE, ["acc-1", "acc-2"], AT, hinted_account="acc-2")
    assert (hinted.account_id, hinted.method) == ("acc-2", "customer_provided")


def test_objects_that_belong_together_are_accepted():
    agreement = AgreementView("ba-1", "acc-1")
    check_belongs_together("acc-1", agreement, PremiseView("pr-1", ("acc-1",), ("ba-1",)))
    check_belongs_together("acc-1", agreement, PremiseView("pr-2", (), ("ba-1",)))
    check_belongs_together("acc-1", None, PremiseView("pr-3", ("acc-1",), ()))
    check_belongs_together("acc-1", None, None)


@pytest.mark.parametrize("agreement, premise, field", [
    (AgreementView("ba-9", "acc-2"), None, "business_agreement_id"),
    (None, PremiseView("pr-9", ("acc-2",), ()), "premise_id"),
    (AgreementView("ba-1", "acc-1"), PremiseView("pr-9", ("acc-1",), ("ba-7",)), "premise_id"),
])
def test_a_mismatch_names_the_object_that_does_not_fit(agreement, premise, field):
    with pytest.raises(Mismatch) as caught:
        check_belongs_together("acc-1", agreement, premise)
    assert caught.value.field == field


def test_a_snapshot_keeps_unreadable_numbers_but_indexes_only_normalized_ones():
    record = account_from_snapshot(account_id="acc-1", kind="person", name="Érika Müller",
                                   phones=["030 123456", "n/a"], emails=["Erika@Example.org", "broken"],
                                   address={"street": "Hauptstr. 5", "postcode": "10115", "city": "Berlin",
                                            "country": "DE"}, flags=[], status="active", source_version=3,
                                   default_region="DE")
    assert record.phones == ("030 123456", "n/a")
    assert record.phones_e164 == ("+4930123456",)
    keys = record.keys()
    assert phone_key("+4930123456") in keys and email_key("erika@example.org") in keys
    assert full_name_key("10115", "erika muller") in keys


def test_a_new_account_refuses_malformed_numbers_and_emails():
    with pytest.raises(InvalidInput):
        new_account(account_id="a", kind="person", name="X", phones=["12"], emails=[], address=None,
                    default_region="DE")
    with pytest.raises(InvalidInput):
        new_account(account_id="a", kind="person", name="X", phones=[], emails=["nope"], address=None,
                    default_region="DE")
    with pytest.raises(InvalidInput):
        new_account(account_id="a", kind="person", name=" - ", phones=[], emails=[], address=None,
                    default_region="DE")


def test_duplicates_are_the_same_email_or_the_same_phone_and_name():
    new = new_account(account_id="new", kind="person", name="Erika Müller", phones=["030 123456"],
                      emails=["erika@example.org"], address=None, default_region="DE")
    same_phone_other_name = ExistingAccount("acc-1", "Max Müller", ("+4930123456",), ())
    same_phone_same_name = ExistingAccount("acc-2", "ERIKA MULLER", ("+4930123456",), ())
    same_email = ExistingAccount("acc-3", "Someone", (), ("erika@example.org",))
    assert find_duplicate(new, [same_phone_other_name]) is None
    assert find_duplicate(new, [same_phone_other_name, same_phone_same_name]).account_id == "acc-2"
    assert find_duplicate(new, [same_email]).account_id == "acc-3"
