"""The demo data set: deterministic, valid against the contracts, consistent links."""

from __future__ import annotations

import re
from datetime import date

import pytest
from icsuite_contracts.cloudevents import from_kafka, to_kafka
from icsuite_tools.demo import FEATURED_ACCOUNT, FEATURED_PHONE, UNKNOWN_PREFIX, demo_dataset

pytestmark = pytest.mark.unit
TODAY = date(2025, 3, 1)


def test_a_few_dozen_accounts_of_both_kinds() -> None:
    data = demo_dataset(TODAY)
    kinds = {a.kind for a in data.accounts}
    assert 30 <= len(data.accounts) <= 60 and kinds == {"person", "organisation"}
    assert len(set(data.account_ids)) == len(data.account_ids)


def test_every_snapshot_is_valid_and_survives_the_kafka_codec() -> None:
    for envelope in demo_dataset(TODAY).envelopes():
        record = to_kafka(envelope)
        assert record.topic == "ic.masterdata.v1"
        back = from_kafka(record.headers, record.value)
        assert back.data == envelope.data and back.data.source_version == 1  # type: ignore[attr-defined]


def test_the_same_data_and_event_ids_every_time() -> None:
    first, second = demo_dataset(TODAY), demo_dataset.__wrapped__(TODAY)
    assert first.events() == second.events()
    assert [e.id for e in first.envelopes()] == [e.id for e in second.envelopes()]


def test_numbers_are_e164_unique_and_never_from_the_unknown_range() -> None:
    numbers = demo_dataset(TODAY).known_numbers
    assert all(re.fullmatch(r"\+[1-9]\d{6,14}", n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    assert not any(n.startswith(UNKNOWN_PREFIX) for n in numbers)


def test_dunning_levels_balances_and_bills() -> None:
    data = demo_dataset(TODAY)
    assert {ba.dunning_level for ba in data.agreements} == {0, 1, 2, 3}
    for ba in data.agreements:
        overdue = [b for b in ba.open_bills if b.due_date < TODAY]
        assert len(overdue) >= ba.dunning_level  # a dunning level needs overdue bills
        if ba.open_bills:
            assert ba.balance == sum(b.amount for b in ba.open_bills)


def test_premises_link_existing_accounts_and_agreements() -> None:
    data = demo_dataset(TODAY)
    accounts = set(data.account_ids)
    agreements = {ba.business_agreement_id: ba.account_id for ba in data.agreements}
    for premise in data.premises:
        assert set(premise.account_ids) <= accounts
        assert all(agreements[ba] in premise.account_ids for ba in premise.business_agreement_ids)
    assert {ba.account_id for ba in data.agreements} == accounts  # every account has an agreement


def test_the_walkthrough_account() -> None:
    data = demo_dataset(TODAY)
    erika = data.accounts[0]
    assert (erika.account_id, erika.phones) == (FEATURED_ACCOUNT, [FEATURED_PHONE])
    assert data.account_for_number(FEATURED_PHONE) == FEATURED_ACCOUNT
    assert data.agreements[0].dunning_level == 2
    assert data.premises[0].account_ids == [FEATURED_ACCOUNT, "acc-100002"]
