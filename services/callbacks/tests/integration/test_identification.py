"""A request without account waits for identity's caller-identified, before or after it arrives, for a bounded time."""

from __future__ import annotations

import pytest
from icsuite_chassis.testing import eventually, publish_envelopes, unique
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.identity_v1 import CallerIdentified

pytestmark = [pytest.mark.integration]
SETTINGS = {"identification_wait_s": 20.0}  # the module's fresh consumer groups first read the shared topics


async def _linked(kit, callback_id: str, account: str | None, status: str = "queued") -> dict:
    async def check() -> dict:
        item = await kit.status_is(callback_id, status)
        assert item["account_id"] == account, item
        return item

    return await eventually(check, timeout=60)


def _identified(request_id: str, number: str, account_id: str | None, *candidates: str):
    event = CallerIdentified(request_id=request_id, callback_number=number, account_id=account_id,
                             candidates=list(candidates))
    return new_envelope(event, source="/identity", correlation_id=request_id)


async def test_identified_after_the_request_the_item_gets_the_account_and_can_dial_it(kit) -> None:
    number = kit.number()
    callback_id = await kit.request(callback_number=number, account_id=None)
    waiting = await kit.get(callback_id)
    assert (waiting["status"], waiting["identification"]) == ("scheduled", "pending")
    assert (await kit.act(callback_id, "claim", kit.agent("a-1"))).status_code == 409  # not workable yet
    account = unique("acc")
    await publish_envelopes(kit.stack.kafka_bootstrap, _identified(callback_id, number, account, account))
    item = await _linked(kit, callback_id, account)
    assert (item["identification"], item["account_id"]) == ("identified", account)
    assert (await kit.act(callback_id, "claim", kit.agent("a-1"))).status_code == 200
    started = await kit.act(callback_id, "start", kit.agent("a-1"), {"dial": "account"})
    assert started.json()["dial"] == {"number": number, "source": "account", "note": None}
    events = await kit.events({callback_id}, expect=3)
    assert [e["type"] for e in events] == ["queued", "claimed", "started"]
    assert events[0]["account_id"] == account and events[2]["dial_source"] == "account"


async def test_identified_before_the_request_arrives_from_the_ivr(kit, mongo_client) -> None:
    request_id, number, account = unique("ivr"), kit.number(), unique("acc")
    await publish_envelopes(kit.stack.kafka_bootstrap, _identified(request_id, number, account, account))
    recorded = mongo_client[kit.settings.mongodb_database]["caller_identifications"]
    await eventually(lambda: recorded.find_one({"_id": request_id}), timeout=60)
    request = CallbackRequested(request_id=request_id, callback_number=number, channel="ivr")
    await publish_envelopes(kit.stack.kafka_bootstrap, new_envelope(request, source="/ivr"))
    # the module's fresh consumer group reads the shared request topic from its beginning first
    item = await _linked(kit, request_id, account)
    assert (item["identification"], item["account_id"]) == ("identified", account)


async def test_no_unique_match_goes_on_unidentified_at_once_with_the_candidates(kit) -> None:
    number = kit.number()
    callback_id = await kit.request(callback_number=number, account_id=None)
    await publish_envelopes(kit.stack.kafka_bootstrap, _identified(callback_id, number, None, "acc-1", "acc-2"))
    item = await eventually(lambda: kit.status_is(callback_id, "queued"), timeout=19)
    assert (item["identification"], item["account_id"], item["candidates"]) == ("unidentified", None,
                                                                                ["acc-1", "acc-2"])
    await kit.act(callback_id, "claim", kit.agent("a-2"))
    started = (await kit.act(callback_id, "start", kit.agent("a-2"), {"dial": "account"})).json()
    assert started["dial"]["source"] == "requested" and started["dial"]["number"] == number
    assert "not known" in started["dial"]["note"]


async def test_without_an_answer_the_wait_ends_and_the_item_goes_on_unidentified(kit) -> None:
    callback_id = await kit.request(account_id=None)
    item = await eventually(lambda: kit.status_is(callback_id, "queued"), timeout=45)
    assert item["identification"] == "unidentified" and item["account_id"] is None
    [queued] = await kit.events({callback_id}, expect=1)
    assert queued["type"] == "queued" and queued["account_id"] is None


async def test_a_late_answer_links_the_claimed_item_to_the_account_as_one_more_event(kit) -> None:
    number = kit.number()
    callback_id = await kit.request(callback_number=number, account_id=None)
    await eventually(lambda: kit.status_is(callback_id, "queued"), timeout=60)     # the wait ended unidentified
    assert (await kit.act(callback_id, "claim", kit.agent("late-1"))).status_code == 200
    account = unique("acc")   # identity's answer arrives late (a rebalance delayed it)
    await publish_envelopes(kit.stack.kafka_bootstrap, _identified(callback_id, number, account, account))

    async def linked() -> dict:
        item = await kit.get(callback_id)
        assert (item["identification"], item["account_id"], item["status"]) == ("identified", account, "claimed")
        return item

    await eventually(linked, timeout=60)
    events = await kit.events({callback_id}, expect=3)
    assert [e["type"] for e in events] == ["queued", "claimed", "identified"]
    assert events[2]["account_id"] == account
