"""Erasure in identity on the in-memory stores: the request, the confirmations, and identity's own part."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icsuite_chassis.errors import NotFoundError
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.privacy_v1 import Erased, ErasureRequested

from icsuite_identity.domain.erasures import SERVICES
from icsuite_identity.handlers import erasures

from .conftest import NOW, account, redelivered

pytestmark = pytest.mark.unit
PHONE = "+4930555123456"


async def _requested(harness, account_id: str = "acc-e1"):
    await harness.replicate(account(account_id, phones=[PHONE], emails=["erika@example.org"]))
    return await erasures.request_erasure(harness.svc, account_id, "admin-1")


def _request_events(harness):
    return [e for e in harness.svc.stores.erasure_requests.published() if isinstance(e.data, ErasureRequested)]


async def test_a_request_goes_out_once_and_a_second_request_answers_the_open_one(harness):
    first = await _requested(harness)
    second = await erasures.request_erasure(harness.svc, "acc-e1", "admin-2")

    assert second.erasure_id == first.erasure_id and second.requested_by == "admin-1"
    [event] = _request_events(harness)
    assert (event.data.erasure_id, event.data.account_id, event.key) == (first.erasure_id, "acc-e1", "acc-e1")


async def test_an_unknown_account_is_not_found(harness):
    with pytest.raises(NotFoundError):
        await erasures.request_erasure(harness.svc, "acc-nobody", "admin-1")


async def test_it_completes_when_all_five_confirmed_and_a_repeated_confirmation_changes_nothing(harness):
    erasure = await _requested(harness)
    for service in SERVICES:
        confirmation = new_envelope(Erased(erasure_id=erasure.erasure_id, account_id="acc-e1", service=service,
                                           erased={"notes": 2}, erased_at=NOW), source=f"/{service}")
        await erasures.on_erased(harness.svc, confirmation.data, confirmation)
        await erasures.on_erased(harness.svc, confirmation.data, redelivered(confirmation))
        done = await erasures.erasure(harness.svc, erasure.erasure_id)
        assert done.status == ("completed" if service == SERVICES[-1] else "open")
    assert done.completed_at == NOW and done.confirmations["alerts"].erased == {"notes": 2}
    again = await erasures.request_erasure(harness.svc, "acc-e1", "admin-1")
    assert again.erasure_id != erasure.erasure_id


async def test_a_later_reconfirmation_replaces_the_first_and_an_older_one_changes_nothing(harness):
    erasure = await _requested(harness)

    def confirmed(service: str, at, erased: dict[str, int]):
        return new_envelope(Erased(erasure_id=erasure.erasure_id, account_id="acc-e1", service=service,
                                   erased=erased, erased_at=at), source=f"/{service}")
    first, later = confirmed("alerts", NOW, {"alerts": 3}), confirmed("alerts", NOW + timedelta(hours=1), {"alerts": 1})
    for service in SERVICES[:-1]:
        each = confirmed(service, NOW, {"n": 1})
        await erasures.on_erased(harness.svc, each.data, each)
    await erasures.on_erased(harness.svc, later.data, later)
    await erasures.on_erased(harness.svc, first.data, first)             # the earlier one, arriving late
    done = await erasures.erasure(harness.svc, erasure.erasure_id)
    assert done.confirmations["alerts"].erased == {"alerts": 1}
    assert done.completed_at == NOW + timedelta(hours=1)
    version = (await harness.svc.stores.erasure_requests.get(erasure.erasure_id)).version
    micro = confirmed("alerts", NOW + timedelta(hours=1, microseconds=400), {"alerts": 1})
    await erasures.on_erased(harness.svc, micro.data, micro)            # the same time as the database keeps it
    assert (await harness.svc.stores.erasure_requests.get(erasure.erasure_id)).version == version


async def test_identity_anonymises_the_account_and_a_redelivery_confirms_the_same(harness):
    erasure = await _requested(harness)
    [request] = _request_events(harness)

    await erasures.on_erasure_requested(harness.svc, request.data, request)
    await erasures.on_erasure_requested(harness.svc, request.data, redelivered(request))

    stored = await harness.svc.stores.accounts.get("acc-e1")
    assert (stored.state.name, stored.state.phones, stored.state.emails, stored.state.address) == (
        "[erased]", (), (), None)
    assert await harness.svc.reads.by_phone(PHONE) == []
    confirmations = [e for e in harness.svc.stores.erasure_runs.published()]
    assert len(confirmations) == 2 and confirmations[0].id == confirmations[1].id
    assert confirmations[0].data.erased == confirmations[1].data.erased == {
        "accounts": 1, "lookup_keys": 6, "contact_addresses": 0, "callback_numbers": 0}
    assert stored.state.retired_keys == ()
    assert confirmations[0].data.erasure_id == erasure.erasure_id


async def test_a_later_snapshot_of_an_erased_account_does_not_bring_its_data_back(harness):
    await _requested(harness)
    [request] = _request_events(harness)
    await erasures.on_erasure_requested(harness.svc, request.data, request)

    await harness.replicate(account("acc-e1", 99, phones=[PHONE]))

    stored = await harness.svc.stores.accounts.get("acc-e1")
    assert (stored.state.name, stored.state.phones) == ("[erased]", ())
