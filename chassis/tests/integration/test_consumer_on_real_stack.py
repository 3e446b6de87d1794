"""The consumer chassis against the real Kafka broker and MongoDB-wire server, in this process."""

import asyncio
import json
from datetime import UTC, datetime

import pytest

from aiokafka.errors import KafkaTimeoutError

from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.settings import ServiceSettings
from icsuite_chassis.store import Change, MongoAggregateStore, PlainCodec
from icsuite_chassis.testing import eventually, header, publish_envelopes, publish_raw, read_topic, unique
from icsuite_contracts.cloudevents import new_envelope, to_kafka
from icsuite_contracts.contacts_v1 import ContactStarted

pytestmark = [pytest.mark.integration]


def _started(contact_id: str) -> ContactStarted:
    return ContactStarted(contact_id=contact_id, channel="phone", direction="inbound",
                          from_address="+4930123456", started_at=datetime.now(UTC))


async def _runtime(stack, group: str) -> ServiceRuntime:
    settings = ServiceSettings(service_name="chassis-test", kafka_bootstrap_servers=stack.kafka_bootstrap,
                               mongodb_uri=stack.mongodb_uri, mongodb_database=group.replace("-", "_"),
                               consumer_retry_backoff_s=0.01)
    runtime = ServiceRuntime(settings)
    counters: MongoAggregateStore[dict] = MongoAggregateStore(runtime.db, "counters", PlainCodec())

    async def count(envelope) -> None:
        await counters.change(envelope.data.contact_id,
                              lambda current: Change({"n": (current.state["n"] if current else 0) + 1}),
                              event_id=envelope.id)

    runtime.add_consumer(group, ["ic.contacts.v1"], {"ic.contact.started.v1": count})
    return runtime


async def test_an_event_delivered_twice_has_one_effect(stack) -> None:
    group = unique("dedupe")
    runtime = await _runtime(stack, group)
    contact = unique("c")
    envelope = new_envelope(_started(contact), source="/test")
    later = new_envelope(_started(contact), source="/test")
    await publish_envelopes(stack.kafka_bootstrap, envelope, envelope, later, envelope)
    await runtime.start()
    try:
        doc = await eventually(lambda: runtime.db.counters.find_one({"_id": contact, "n": {"$gte": 2}}))
        await asyncio.sleep(0.5)
        doc = await runtime.db.counters.find_one({"_id": contact})
        assert doc["n"] == 2  # the twice- and thrice-delivered event counted once, the other one once
    finally:
        await runtime.stop()


async def test_poison_messages_go_to_the_dlq_and_the_next_good_one_is_processed(stack) -> None:
    group = unique("poison")
    runtime = await _runtime(stack, group)
    key = unique("poison-key").encode()
    good = to_kafka(new_envelope(_started(unique("c")), source="/test"))
    headers = dict(good.headers)
    wrong_model = {**headers, "ce_id": "w-1"}
    unknown_type = {**headers, "ce_id": "u-1", "ce_type": "ic.contact.teleported.v1"}
    await publish_raw(stack.kafka_bootstrap, "ic.contacts.v1", b"{not json", key=key,
                      headers=list({**headers, "ce_id": "n-1"}.items()))
    await publish_raw(stack.kafka_bootstrap, "ic.contacts.v1", json.dumps({"contact_id": 5}).encode(), key=key,
                      headers=list(wrong_model.items()))
    await publish_raw(stack.kafka_bootstrap, "ic.contacts.v1", good.value, key=key,
                      headers=list(unknown_type.items()))
    await publish_raw(stack.kafka_bootstrap, "ic.contacts.v1", b"x" * 900_000, key=key,
                      headers=list({**headers, "ce_id": "h-1"}.items()))
    await publish_raw(stack.kafka_bootstrap, "ic.contacts.v1", good.value, key=key, headers=good.headers)
    contact_id = json.loads(good.value)["contact_id"]
    await runtime.start()
    try:
        await eventually(lambda: runtime.db.counters.find_one({"_id": contact_id}))
        dead = await read_topic(stack.kafka_bootstrap, "ic.contacts.v1.dlq",
                                lambda r: r.key == key and header(r, "dlq_consumer") == f"chassis-test.{group}",
                                expect=4)
        reasons = sorted(header(r, "dlq_reason") for r in dead)
        assert reasons == ["invalid_model", "not_json", "too_large", "unknown_type"]
        by_reason = {header(r, "dlq_reason"): r for r in dead}
        assert header(by_reason["not_json"], "ce_id") == "n-1"           # original headers kept
        assert header(by_reason["unknown_type"], "dlq_original_topic") == "ic.contacts.v1"
        assert "contact_id" in header(by_reason["invalid_model"], "dlq_error")
    finally:
        await runtime.stop()


async def test_a_dead_letter_topic_that_refuses_writes_parks_the_record_and_the_partition_goes_on(stack) -> None:
    group = unique("dlq-parked")
    runtime = await _runtime(stack, group)
    consumer = runtime.consumers[0]

    async def refuse(topic, value, *, key, headers) -> None:
        raise KafkaTimeoutError()  # the dead-letter topic cannot be written

    consumer._publisher = type("Refusing", (), {"publish_raw": staticmethod(refuse)})()  # type: ignore[assignment]
    key = unique("k").encode()
    good = to_kafka(new_envelope(_started(unique("c")), source="/test"))
    await publish_raw(stack.kafka_bootstrap, "ic.contacts.v1", b"{not json", key=key,
                      headers=list({**dict(good.headers), "ce_id": "n-2"}.items()))
    await publish_raw(stack.kafka_bootstrap, "ic.contacts.v1", good.value, key=key, headers=good.headers)
    contact_id = json.loads(good.value)["contact_id"]
    await runtime.start()
    try:
        await eventually(lambda: runtime.db.counters.find_one({"_id": contact_id}), timeout=60)
        parked = await runtime.db.dead_letters_parked.find_one({"headers.ce_id": "n-2"})
        assert parked["topic"] == "ic.contacts.v1.dlq" and parked["headers"]["dlq_reason"] == "not_json"
        assert parked["headers"]["dlq_error_location"] == "body" and parked["value"] == b"{not json"
        assert parked["publish_error"].startswith("KafkaTimeoutError")
    finally:
        await runtime.stop()
