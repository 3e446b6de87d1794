"""Poison on every topic: each lands in the DLQ with its reason, once per consumer group, and the
consumers move on (their committed offsets pass a good message published after the poison)."""

import asyncio
import json
import time
from collections import defaultdict

import httpx
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from icsuite_chassis.testing import header, read_topic, unique
from icsuite_contracts.cloudevents import new_envelope, to_kafka
from icsuite_contracts.registry import TOPICS
from icsuite_contracts.testing import sample_event

from e2e_report import REPORT

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
POISON = ("not_json", "invalid_model", "unknown_type", "too_large")
SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")


def _consumers_by_topic(suite) -> dict[str, list[str]]:
    """Topic -> the services that consume it, from each service's AsyncAPI document."""
    readers: dict[str, list[str]] = defaultdict(list)
    for service in SERVICES:
        doc = httpx.get(suite.url(service, "/asyncapi.json"), timeout=10).json()
        for operation in doc["operations"].values():
            if operation["action"] == "receive":
                channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
                readers[doc["channels"][channel]["address"]].append(service)
    return readers


def _poison(topic) -> tuple[list[tuple[bytes, dict[str, str]]], object]:
    good = to_kafka(new_envelope(sample_event(topic.event_types[0]), source="/poison-test"))
    base = {k: v.decode() for k, v in good.headers}
    cases = [
        (b"\x00not json", {**base, "ce_id": unique("p")}),
        (json.dumps({"unexpected": [1, 2]}).encode(), {**base, "ce_id": unique("p")}),
        (good.value, {**base, "ce_id": unique("p"), "ce_type": "ic.unknown.thing.v1"}),
        (b"{" + b" " * 600_000 + b"}", {**base, "ce_id": unique("p")}),
    ]
    return cases, good


async def _committed_past(admin, group: str, tp: TopicPartition, offset: int) -> bool:
    offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
    meta = offsets.get(tp)
    return meta is not None and meta.offset > offset


async def test_poison_on_every_topic_is_dead_lettered_and_consumers_move_on(suite) -> None:
    readers = _consumers_by_topic(suite)
    producer = AIOKafkaProducer(bootstrap_servers=suite.kafka_bootstrap, acks="all", max_request_size=2**21)
    admin = AIOKafkaAdminClient(bootstrap_servers=suite.kafka_bootstrap)
    await producer.start()
    await admin.start()
    good_offsets: dict[str, tuple[bytes, TopicPartition, int]] = {}
    try:
        for topic in TOPICS:
            if not readers.get(topic.name):
                continue
            key = unique("poison").encode()
            cases, good = _poison(topic)
            for value, headers in cases:
                await producer.send_and_wait(topic.name, value, key=key,
                                             headers=[(k, v.encode()) for k, v in headers.items()])
            meta = await producer.send_and_wait(topic.name, good.value, key=key, headers=good.headers)
            good_offsets[topic.name] = (key, TopicPartition(topic.name, meta.partition), meta.offset)
        rows = []
        for topic_name, (key, tp, offset) in good_offsets.items():
            services = readers[topic_name]
            dead = await read_topic(suite.kafka_bootstrap, f"{topic_name}.dlq", lambda r, k=key: r.key == k and (header(r, "dlq_consumer") or "").startswith(suite.prefix),
                                    expect=len(services) * len(POISON), timeout=60)
            by_group: dict[str, list[str]] = defaultdict(list)
            for record in dead:
                by_group[header(record, "dlq_consumer")].append(header(record, "dlq_reason"))
            for service in services:
                groups = [g for g in by_group if g.startswith(f"{suite.prefix}{service}.")]
                assert groups, f"{service} dead-lettered nothing from {topic_name}: {dict(by_group)}"
                for group in groups:
                    assert sorted(set(by_group[group]) & set(POISON)) == sorted(POISON), (group, by_group[group])
                    assert len([r for r in by_group[group] if r in POISON]) == len(POISON), "dead-lettered twice"
                    deadline = time.monotonic() + 60
                    while not await _committed_past(admin, group, tp, offset):
                        assert time.monotonic() < deadline, f"{group} did not move past the poison on {tp}"
                        await asyncio.sleep(0.3)
                    rows.append((topic_name, group, len(by_group[group])))
        print("\nDLQ entries per topic and consumer group (poison test):")
        for topic_name, group, n in rows:
            print(f"  {topic_name:28} {group:50} {n}")
        assert rows
        REPORT["DLQ entries per topic (poison test)"] = {
            t: sum(n for topic, _, n in rows if topic == t) for t in dict.fromkeys(r[0] for r in rows)}
    finally:
        await producer.stop()
        await admin.close()
