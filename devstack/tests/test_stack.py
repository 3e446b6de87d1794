"""A local stack of its own: Kafka round trips across a graceful restart, a crash and a full restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from icsuite_devstack.stack import Stack, start_stack
from icsuite_devstack.topics import create_topics
from pymongo import AsyncMongoClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPIC = "devstack.probe.v1"
SPECS = [(TOPIC, 3), (f"{TOPIC}.dlq", 1)]


async def produce(bootstrap: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(TOPIC, value, key=b"aggregate-1")
    finally:
        await producer.stop()


async def consume_one(bootstrap: str) -> bytes:
    consumer = AIOKafkaConsumer(
        TOPIC, bootstrap_servers=bootstrap, group_id="devstack-probe",
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=30)
        await consumer.commit()
        assert message.value is not None
        return message.value
    finally:
        await consumer.stop()


async def partition_count(bootstrap: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (topic,) = await admin.describe_topics([TOPIC])
        return len(topic["partitions"])
    finally:
        await admin.close()


async def test_kafka_round_trips_across_restart_crash_and_full_restart(tmp_path: Path) -> None:
    stack = start_stack(tmp_path, mongo_memory=True)
    try:
        assert sorted(await create_topics(stack.kafka_bootstrap, SPECS)) == sorted(n for n, _ in SPECS)
        assert await create_topics(stack.kafka_bootstrap, SPECS) == []  # idempotent
        await produce(stack.kafka_bootstrap, b"one")
        assert await consume_one(stack.kafka_bootstrap) == b"one"

        stack.restart_kafka()
        await produce(stack.kafka_bootstrap, b"two")
        assert await consume_one(stack.kafka_bootstrap) == b"two"

        stack.kill_kafka()
        assert stack.kafka is not None and not stack.kafka.is_running
        stack.start_kafka()
        await produce(stack.kafka_bootstrap, b"three")
        assert await consume_one(stack.kafka_bootstrap) == b"three"
    finally:
        stack.stop()
    assert stack.kafka is not None and not stack.kafka.is_running
    assert stack.mongo is not None and not stack.mongo.is_running


async def test_a_stopped_stack_starts_again_with_its_data(tmp_path: Path) -> None:
    with start_stack(tmp_path) as first:
        await create_topics(first.kafka_bootstrap, SPECS)
        await produce(first.kafka_bootstrap, b"kept")
        await write_document(first, {"_id": "kept", "n": 1})
        ports = (first.kafka.port, first.mongo.port) if first.kafka and first.mongo else None

    assert ports is not None
    with start_stack(tmp_path, kafka_port=ports[0], mongo_port=ports[1]) as second:
        assert await partition_count(second.kafka_bootstrap) == 3
        assert await consume_one(second.kafka_bootstrap) == b"kept"
        assert await read_document(second, "kept") == {"_id": "kept", "n": 1}


async def write_document(stack: Stack, document: dict[str, object]) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(stack.mongodb_uri)
    try:
        await client.devstack_probe.docs.insert_one(document)
    finally:
        await client.close()


async def read_document(stack: Stack, key: str) -> dict[str, object] | None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(stack.mongodb_uri)
    try:
        return await client.devstack_probe.docs.find_one({"_id": key})
    finally:
        await client.close()


async def test_session_stack_serves_transactional_producers(kafka_bootstrap: str) -> None:
    topic = "devstack.tx-probe.v1"
    await create_topics(kafka_bootstrap, [(topic, 1)])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id="devstack-tx-probe")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(topic, b"committed", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, isolation_level="read_committed",
        auto_offset_reset="earliest", group_id="devstack-tx-probe",
    )  # fmt: skip
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert message.value == b"committed"
