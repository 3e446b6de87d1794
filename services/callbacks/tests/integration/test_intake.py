"""Both intake paths, the same validation for both, the abuse guard and routing by reason profile."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.testing import eventually, header, publish_envelopes, read_topic, unique
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import new_envelope

pytestmark = [pytest.mark.integration]


def _ivr_request(kit, **fields) -> CallbackRequested:
    values = {"request_id": unique("ivr"), "callback_number": kit.number(), "account_id": unique("acc"),
              "channel": "ivr", **fields}
    return CallbackRequested(**values)


async def test_a_web_request_is_accepted_queued_and_announced(kit) -> None:
    body = {"callback_number": kit.number(), "account_id": "acc-100200", "reason_code": "billing_question",
            "time_zone": "Europe/Berlin", "language": "de", "attributes": {"campaign": "spring"}}
    response = await kit.client.post("/v1/callbacks", json=body, headers=kit.channel)
    assert response.status_code == 202, response.text
    accepted = response.json()
    callback_id = accepted["callback_id"]
    assert accepted["request_id"] == callback_id
    assert response.headers["location"] == f"/v1/callbacks/{callback_id}"
    item = await kit.status_is(callback_id, "queued")
    assert (item["profile"], item["account_id"], item["attributes"]) == ("billing_question", "acc-100200",
                                                                         {"campaign": "spring"})
    [queued] = await kit.events({callback_id}, expect=1)
    assert queued["type"] == "queued" and queued["profile"] == "billing_question" and queued["priority"] == 3


async def test_a_web_request_without_account_is_published_for_identity(kit) -> None:
    callback_id = await kit.request(account_id=None)
    requested = await read_topic(kit.stack.kafka_bootstrap, "ic.callback-requests.v1",
                                 lambda r: r.key == callback_id.encode(), expect=1)
    assert len(requested) == 1 and header(requested[0], "ce_type") == "ic.callback.requested.v1"


async def test_an_ivr_request_on_the_topic_becomes_one_work_item(kit) -> None:
    event = _ivr_request(kit, reason_code="outage")
    envelope = new_envelope(event, source="/ivr")
    await publish_envelopes(kit.stack.kafka_bootstrap, envelope, envelope)  # delivered twice
    item = await eventually(lambda: kit.status_is(event.request_id, "queued"))
    assert (item["channel"], item["profile"], item["priority"]) == ("ivr", "outage", 8)
    events = await kit.events({event.request_id}, expect=1)
    assert [e["type"] for e in events] == ["queued"]


async def test_an_invalid_ivr_request_goes_to_the_dlq_with_the_reason(kit) -> None:
    now = datetime.now(UTC)
    reversed_window = _ivr_request(kit, preferred_from=now + timedelta(hours=3), preferred_to=now + timedelta(hours=1))
    number = kit.number()
    for _ in range(3):
        await kit.request(callback_number=number)
    one_too_many = _ivr_request(kit, callback_number=number)
    await publish_envelopes(kit.stack.kafka_bootstrap, new_envelope(reversed_window, source="/ivr"),
                            new_envelope(one_too_many, source="/ivr"))
    keys = {reversed_window.request_id.encode(), one_too_many.request_id.encode()}
    consumer = f"{kit.settings.consumer_group_prefix}callbacks.requests"
    dead = await read_topic(kit.stack.kafka_bootstrap, "ic.callback-requests.v1.dlq",
                            lambda r: r.key in keys and header(r, "dlq_consumer") == consumer, expect=2)
    errors = {r.key.decode(): header(r, "dlq_error") for r in dead}
    assert {header(r, "dlq_reason") for r in dead} == {"rejected"}
    assert "start before it ends" in errors[reversed_window.request_id]
    assert "3 open callback requests" in errors[one_too_many.request_id]
    for request_id in (reversed_window.request_id, one_too_many.request_id):
        assert (await kit.client.get(f"/v1/callbacks/{request_id}", headers=kit.supervisor)).status_code == 404


def _bad_bodies() -> list[tuple[str, dict]]:
    now = datetime.now(UTC)
    iso = lambda delta: (now + delta).isoformat()  # noqa: E731
    return [
        ("malformed number", {"callback_number": "030 1234567"}),
        ("number without plus", {"callback_number": "4930123456"}),
        ("number not a string", {"callback_number": 4930123456}),
        ("window in the past", {"preferred_from": iso(timedelta(hours=-3)), "preferred_to": iso(timedelta(hours=-1))}),
        ("reversed window", {"preferred_from": iso(timedelta(hours=3)), "preferred_to": iso(timedelta(hours=2))}),
        ("beyond 30 days", {"preferred_from": iso(timedelta(days=31)), "preferred_to": iso(timedelta(days=32))}),
        ("time without offset", {"preferred_to": (now + timedelta(hours=1)).replace(tzinfo=None).isoformat()}),
        ("unknown time zone", {"time_zone": "Mars/Olympus"}),
        ("reason not a string", {"reason_code": 42}),
        ("attribute not a string", {"attributes": {"campaign": 7}}),
        ("account not a string", {"account_id": ["acc-1"]}),
        ("channel unknown", {"channel": "pigeon"}),
    ]


@pytest.mark.parametrize(("case", "fields"), _bad_bodies(), ids=[c for c, _ in _bad_bodies()])
async def test_bad_input_answers_422_problem_details(kit, case: str, fields: dict) -> None:
    body = {"callback_number": kit.number(), **fields}
    response = await kit.client.post("/v1/callbacks", json=body, headers=kit.channel)
    assert response.status_code == 422, (case, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]


async def test_requests_need_a_role_and_a_token(kit) -> None:
    body = {"callback_number": kit.number()}
    assert (await kit.client.post("/v1/callbacks", json=body)).status_code == 401
    assert (await kit.client.post("/v1/callbacks", json="not an object", headers=kit.channel)).status_code == 422


async def test_a_number_with_three_open_requests_gets_429_until_one_closes(kit) -> None:
    number = kit.number()
    first, *_ = [await kit.request(callback_number=number) for _ in range(3)]
    response = await kit.client.post("/v1/callbacks", json={"callback_number": number}, headers=kit.channel)
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "3 open callback requests" in response.json()["detail"]
    assert (await kit.act(first, "cancel", kit.channel, {"reason": "customer_called_in"})).status_code == 200
    await kit.request(callback_number=number)  # a slot is free again


async def test_concurrent_requests_for_one_number_never_exceed_three(kit) -> None:
    number = kit.number()
    responses = await asyncio.gather(*(
        kit.client.post("/v1/callbacks", json={"callback_number": number, "account_id": "acc-1"},
                        headers=kit.channel) for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [202] * 3 + [429] * 5


async def test_unknown_or_missing_reason_is_routed_by_the_default_profile(kit) -> None:
    unknown = await kit.request(reason_code="no_such_reason_here")
    missing = await kit.request()
    for callback_id, reason in ((unknown, "no_such_reason_here"), (missing, None)):
        item = await kit.status_is(callback_id, "queued")
        assert (item["profile"], item["reason_code"], item["priority"]) == ("default", reason, 1)


async def test_reason_profiles_route_new_requests_and_only_admins_write_them(kit) -> None:
    code = unique("vip").replace("-", "_")
    profile = {"task_type": "vip_callback", "priority": 9, "sla_minutes": 30, "queue": "vip", "skill": "vip",
               "max_attempts": 4, "retry_delay_seconds": 60}
    path = f"/v1/reason-profiles/{code}"
    assert (await kit.client.put(path, json=profile, headers=kit.agent("a-1"))).status_code == 403
    assert (await kit.client.put(path, json=profile, headers=kit.supervisor)).status_code == 403
    created = await kit.client.put(path, json=profile, headers=kit.admin)
    assert created.status_code == 201, created.text
    assert (await kit.client.put(path, json={**profile, "priority": 7}, headers=kit.admin)).status_code == 200
    assert (await kit.client.put(path, json={**profile, "priority": "high"}, headers=kit.admin)).status_code == 422
    read = (await kit.client.get(path, headers=kit.agent("a-1"))).json()
    assert (read["priority"], read["queue"], read["is_default"]) == (7, "vip", False)
    default = (await kit.client.get("/v1/reason-profiles/default", headers=kit.agent("a-1"))).json()
    assert default["is_default"] is True
    assert (await kit.client.get("/v1/reason-profiles/nope", headers=kit.admin)).status_code == 404
    item = await kit.status_is(await kit.request(reason_code=code), "queued")
    assert (item["profile"], item["task_type"], item["priority"], item["queue"], item["skill"],
            item["max_attempts"]) == (code, "vip_callback", 7, "vip", "vip", 4)
