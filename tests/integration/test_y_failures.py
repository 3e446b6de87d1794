"""While the channel simulator publishes a steady stream of contacts, every service is killed with
SIGKILL and restarted in turn, and the Kafka broker is restarted. Afterwards every effect is there
exactly once, consumer lag is back to zero and nothing from the stream is in a dead-letter topic.

Named to run after the stories and the walkthrough (and before the fuzzer): it leaves a backlog that the
services work off for a while, which must not slow the stories down."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from icsuite_chassis.testing import header, read_topic, unique
from icsuite_tools.simulator import simulate

from e2e_report import REPORT
from e2e_steps import replicate_customer

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]
SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")
RATE, DURATION = 5.0, 32.0


async def _chaos(suite) -> list[str]:
    """Kill each service in turn and start it again, then restart the broker."""
    done = []
    for service in SERVICES:
        await asyncio.sleep(4)
        suite.kill(service)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(suite.start, service, 90)
        done.append(f"SIGKILL {service}")
    await asyncio.sleep(2)
    await asyncio.to_thread(suite.stack.restart_kafka)
    done.append("restart kafka")
    return done


def _contact_of(record) -> str | None:
    """The contact id of an event on ic.interactions.v1 (None for the poison test's non-JSON leftovers)."""
    try:
        return json.loads(record.value).get("contact_id")
    except (ValueError, AttributeError):
        return None


async def _published(bootstrap: str, contact_ids: set[str]) -> Counter[str]:
    """What the stream really put on the topic: distinct events per type for our contacts."""
    records = await read_topic(bootstrap, "ic.contacts.v1", lambda r: r.key.decode() in contact_ids,
                               expect=10**9, timeout=15)
    seen = {(header(r, "ce_type"), header(r, "ce_id")) for r in records}
    return Counter(t for t, _ in seen)


async def _lag(admin: AIOKafkaAdminClient, bootstrap: str, prefix: str) -> dict[str, int]:
    groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(prefix)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        lag = {}
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group)
            ends = await consumer.end_offsets(list(committed))
            lag[group] = sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items())
        return lag
    finally:
        await consumer.stop()


async def test_effects_exactly_once_through_kills_and_a_broker_restart(suite) -> None:
    customers = [await replicate_customer(suite, dunning_level=2) for _ in range(4)]
    run_id = unique("chaos")[-10:]
    stream = asyncio.create_task(simulate(
        suite.kafka_bootstrap, rate=RATE, duration_s=DURATION, mix={"call": 3, "ivr": 1, "email": 1},
        known_numbers=[c.phone for c in customers], known_emails=[c.email for c in customers],
        known_ratio=0.6, seed=7, run_id=run_id))
    chaos = await _chaos(suite)
    summary = await stream
    contact_ids = set(summary.contact_ids)
    published = await _published(suite.kafka_bootstrap, contact_ids)
    assert published["ic.contact.started.v1"] == len(contact_ids) > 50

    mongo: AsyncMongoClient = AsyncMongoClient(suite.mongodb_uri)
    interactions = mongo[suite.database("interactions")].interactions

    async def stored() -> tuple[int, int]:
        docs = [d async for d in interactions.find({"contact_id": {"$in": sorted(contact_ids)}},
                                                   {"media": 1, "contact_id": 1})]
        segments = sum(len(item.get("segments") or {}) for d in docs
                       for item in (d.get("media") or {}).values())
        return len(docs), segments

    deadline = time.monotonic() + 180
    while (now := await stored()) != (len(contact_ids), published["ic.contact.segment.v1"]):
        assert time.monotonic() < deadline, f"stored {now}, published {dict(published)}"
        await asyncio.sleep(1)
    n_interactions, n_segments = now
    opened = await read_topic(suite.kafka_bootstrap, "ic.interactions.v1",
                              lambda r: header(r, "ce_type") == "ic.interaction.opened.v1"
                              and _contact_of(r) in contact_ids,
                              expect=len(contact_ids), timeout=60)
    identified = await read_topic(suite.kafka_bootstrap, "ic.identity.v1",
                                  lambda r: r.key.decode() in contact_ids
                                  and header(r, "ce_type") == "ic.identity.contact-identified.v1",
                                  expect=summary.known, timeout=60)
    identifications = Counter(r.key.decode() for r in {header(r, "ce_id"): r for r in identified}.values())
    alerts_db = mongo[suite.database("alerts")].alerts

    async def dunning_alerts() -> list[dict]:
        return [a async for a in alerts_db.find({"contact_id": {"$in": sorted(contact_ids)},
                                                 "rule_id": "std-dunning-level"})]
    deadline = time.monotonic() + 240
    while len(alerts := await dunning_alerts()) < summary.known:
        assert time.monotonic() < deadline, f"{len(alerts)} dunning alerts for {summary.known} identified contacts"
        await asyncio.sleep(1)
    await asyncio.sleep(3)
    alerts = await dunning_alerts()
    all_alerts = [a async for a in alerts_db.find({"contact_id": {"$in": sorted(contact_ids)}})]
    await mongo.close()

    assert len({header(r, "ce_id") for r in opened}) == n_interactions == len(contact_ids)
    assert len(identifications) == summary.known and set(identifications.values()) == {1}
    assert len(alerts) == summary.known
    per_rule_and_contact = Counter((a["rule_id"], a["contact_id"]) for a in all_alerts)
    assert max(per_rule_and_contact.values()) == 1, "an alert was raised twice"

    admin = AIOKafkaAdminClient(bootstrap_servers=suite.kafka_bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + 90
        while any((lag := await _lag(admin, suite.kafka_bootstrap, suite.prefix)).values()):
            assert time.monotonic() < deadline, f"consumer lag stays {lag}"
            await asyncio.sleep(1)
    finally:
        await admin.close()
    dead = await read_topic(suite.kafka_bootstrap, "ic.contacts.v1.dlq", lambda r: r.key.decode() in contact_ids,
                            expect=1, timeout=5)
    assert dead == [], [header(r, "dlq_error") for r in dead]

    REPORT["kills survived"] = len(chaos)
    REPORT["failure run"] = {
        "contacts published": len(contact_ids), "events published": sum(published.values()),
        "interactions stored": n_interactions, "segments published/stored": f"{published['ic.contact.segment.v1']}"
                                                                             f"/{n_segments}",
        "identifications (known contacts)": f"{len(identifications)}/{summary.known}",
        "dunning alerts": len(alerts), "alerts raised in all": len(all_alerts), "duplicates": 0,
        "DLQ entries from the stream": len(dead), "chaos": ", ".join(chaos),
    }
