"""Erasure of what a callback work item and the account's replicated numbers hold, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.erasure import ERASED
from icsuite_chassis.store import Stored

from icsuite_callbacks.domain import SEED_PROFILES, CallbackRequest, IntakePolicy
from icsuite_callbacks.domain.erasure import (
    TOMBSTONE_VERSION,
    decide_erase,
    decide_erase_identity,
    decide_erase_phones,
    personal_data,
)
from icsuite_callbacks.domain.intake import CallerIdentity, new_work_item
from icsuite_callbacks.projections.accounts import AccountPhones, project
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.masterdata_v1 import AccountUpserted

pytestmark = [pytest.mark.unit]
NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


def _item():
    request = CallbackRequest(request_id="cbr-1", callback_number="+4930123456", channel="web", account_id="acc-1",
                              preferred_to=NOW + timedelta(hours=4), attributes={"campaign": "spring"})
    return replace(new_work_item(request, SEED_PROFILES[0], NOW, IntakePolicy()), dial_number="+4930123456")


def test_the_numbers_and_attributes_of_an_item_are_erased_once() -> None:
    item = _item()
    assert personal_data(item) == {"callback_numbers": 2, "attributes": 1}

    erased = decide_erase(Stored(item.callback_id, item, 1)).state

    assert (erased.callback_number, erased.dial_number, erased.account_number, erased.attributes) == (
        ERASED, ERASED, None, {})
    assert (erased.callback_id, erased.status, erased.account_id) == (item.callback_id, item.status, "acc-1")
    assert decide_erase(Stored(item.callback_id, erased, 2)) is None


def test_the_accounts_numbers_become_a_tombstone_no_later_snapshot_overwrites() -> None:
    tombstone = decide_erase_phones(Stored("acc-1", AccountPhones(3, ("+4930123456",)), 1)).state
    later = new_envelope(AccountUpserted(account_id="acc-1", source_version=99, kind="person", name="x",
                                         phones=["+4930123456"]), source="/erp")

    assert tombstone == AccountPhones(TOMBSTONE_VERSION, ())
    assert project(tombstone, later) is None
    assert decide_erase_phones(Stored("acc-1", tombstone, 2)) is None


def test_the_number_identity_looked_up_is_erased() -> None:
    found = CallerIdentity("acc-1", ("acc-1",), "+4930123456")
    assert decide_erase_identity(Stored("cbr-1", found, 1)).state.looked_up_number == ERASED
    assert decide_erase_identity(Stored("cbr-1", CallerIdentity("acc-1"), 1)) is None
