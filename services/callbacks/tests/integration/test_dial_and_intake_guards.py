"""Issue 17 on the real stack: dial one of the account's own stored numbers (replicated master data); callback
numbers checked with phonenumbers; intake rate limited per caller and per number with Retry-After."""

from __future__ import annotations

import pytest
from icsuite_chassis.testing import bearer, eventually, publish_envelopes, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.masterdata_v1 import AccountUpserted, Address

pytestmark = [pytest.mark.integration]
SETTINGS = {"rate_limit_per_caller": 5, "rate_limit_per_number": 4}


async def test_dial_account_dials_one_of_the_accounts_stored_numbers(kit, mongo_client) -> None:
    account = unique("acc")
    snapshot = AccountUpserted(account_id=account, source_version=3, kind="person", name="Erika Mustermann",
                               phones=["030 5550101", "+4915112345678"],
                               address=Address(street="Hauptstr. 5", postcode="10115", city="Berlin", country="DE"))
    await publish_envelopes(kit.stack.kafka_bootstrap, new_envelope(snapshot, source="/billing"))
    replica = mongo_client[kit.settings.mongodb_database]["account_phones"]
    # the module's fresh consumer group reads the shared master-data topic from its beginning first
    await eventually(lambda: replica.find_one({"_id": account}), timeout=120)
    clipboard = {"business_agreement": "ba-300400", "campaign": "spring"}
    callback_id = await kit.request(account_id=account, attributes=clipboard)
    assert (await kit.act(callback_id, "claim", kit.agent("d-1"))).status_code == 200
    wrong = await kit.act(callback_id, "start", kit.agent("d-1"), {"dial": "account", "number": "+4930999999"})
    assert wrong.status_code == 422 and "not one of the account's" in wrong.json()["detail"]
    started = await kit.act(callback_id, "start", kit.agent("d-1"), {"dial": "account", "number": "+4915112345678"})
    assert started.status_code == 200, started.text
    assert started.json()["number_to_dial"] == "+4915112345678"
    assert started.json()["dial"] == {"number": "+4915112345678", "source": "account", "note": None}
    events = await kit.events({callback_id}, expect=3)
    assert (events[2]["type"], events[2]["dial_number"], events[2]["dial_source"]) == ("started", "+4915112345678",
                                                                                      "account")
    assert events[1]["attributes"] == clipboard and events[2]["attributes"] == clipboard   # they leave the item


async def test_attributes_larger_than_the_cap_answer_422(kit) -> None:
    body = {"callback_number": kit.number(), "attributes": {f"k{n}": "x" * 4000 for n in range(5)}}
    response = await kit.client.post("/v1/callbacks", json=body, headers=kit.channel)
    assert response.status_code == 422 and response.json()["reason"] == "attributes-too-large", response.text


@pytest.mark.parametrize(("number", "reason"), [("+499001234567", "refused-premium-rate"),
                                                ("+881612345678", "refused-satellite"),
                                                ("+4918012345", "refused-shared-cost"),
                                                ("+4990012345678", "invalid-number")])
async def test_a_number_that_is_not_callable_answers_422_naming_why_and_nothing_is_stored(kit, mongo_client, number,
                                                                                          reason) -> None:
    response = await kit.client.post("/v1/callbacks", json={"callback_number": number}, headers=kit.channel)
    assert response.status_code == 422 and response.json()["reason"] == reason, response.text
    assert await mongo_client[kit.settings.mongodb_database]["callbacks"].count_documents(
        {"callback_number": number}) == 0


async def test_a_burst_from_one_caller_gets_429_with_retry_after(kit, mongo_client) -> None:
    burst = bearer(unique("burst-client"), "channel")
    numbers = [kit.number() for _ in range(8)]
    answers = [await kit.client.post("/v1/callbacks", json={"callback_number": number}, headers=burst)
               for number in numbers]
    assert [a.status_code for a in answers] == [202] * 5 + [429] * 3
    limited = answers[-1]
    assert 1 <= int(limited.headers["retry-after"]) <= 60   # the window started with the first request
    assert limited.headers["content-type"].startswith("application/problem+json")
    stored = mongo_client[kit.settings.mongodb_database]["callbacks"]
    assert await stored.count_documents({"callback_number": {"$in": numbers[5:]}}) == 0


async def test_one_number_is_limited_across_callers(kit) -> None:
    number = kit.number()
    codes = []
    for n in range(5):
        response = await kit.client.post("/v1/callbacks", json={"callback_number": number},
                                         headers=bearer(unique(f"caller-{n}"), "channel"))
        codes.append(response.status_code)
        if response.status_code == 202:   # close it again, so the open-request guard stays out of the way
            closed = await kit.act(response.json()["callback_id"], "cancel", kit.channel)
            assert closed.status_code == 200
    assert codes == [202, 202, 202, 202, 429]
