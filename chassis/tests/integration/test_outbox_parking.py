"""A stuck outbox entry is parked after N failed sends and its record's later events still arrive
(the relay of a ServiceRuntime against the real Kafka broker and MongoDB-wire server)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from pymongo import AsyncMongoClient
from structlog.testing import capture_logs

from icsuite_chassis.metrics import OUTBOX_PARKED
from icsuite_chassis.outbox import outbox_entries
from icsuite_chassis.outbox_parking import PARKED_COLLECTION
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.settings import ServiceSettings
from icsuite_chassis.testing import eventually, header, read_topic, unique
from icsuite_contracts.cloudevents import MAX_EVENT_BYTES, new_envelope, to_document
from icsuite_contracts.interactions_v1 import ActivityRecorded

pytestmark = [pytest.mark.integration]
TOPIC = "ic.interactions.v1"
ATTEMPTS = 3


def _activity(record_id: str, activity_id: str, value: str = "x", entries: int = 1):
    return new_envelope(ActivityRecorded(interaction_id=record_id, activity_id=activity_id, kind="search",
                                         at=datetime.now(UTC),
                                         details={f"k{i}": value for i in range(entries)}), source="/test")


def _stuck(record_id: str):
    """An entry stored before sizes were checked: over the event limit, so it can never be sent."""
    envelope = _activity(record_id, "act-big", "€" * 4096, entries=50)
    entry = to_document(envelope)
    assert len(str(entry["data"]).encode()) > MAX_EVENT_BYTES
    return entry


async def _runtime(stack, database: str, max_attempts: int = ATTEMPTS) -> ServiceRuntime:
    settings = ServiceSettings(service_name="parking-test", kafka_bootstrap_servers=stack.kafka_bootstrap,
                               mongodb_uri=stack.mongodb_uri, mongodb_database=database,
                               outbox_sweep_interval_s=0.2, outbox_max_attempts=max_attempts)
    runtime = ServiceRuntime(settings, outbox_collections=["records"])
    await runtime.start()
    return runtime


def _arrived(stack, record_id: str, ce_ids: set[str]):
    return read_topic(stack.kafka_bootstrap, TOPIC,
                      lambda r: r.key == record_id.encode() and header(r, "ce_id") in ce_ids, expect=len(ce_ids))


async def test_a_stuck_entry_is_parked_after_n_tries_and_the_later_events_arrive(stack) -> None:
    database = unique("parking").replace("-", "_")
    record_id = unique("int")
    stuck = _stuck(record_id)
    later = _activity(record_id, "act-2")
    before = OUTBOX_PARKED.labels("records", "ValueError")._value.get()
    runtime = await _runtime(stack, database)
    try:
        with capture_logs() as logs:
            await runtime.db.records.insert_one({"_id": record_id, "_outbox": [stuck, *outbox_entries([later])]})
            parked = await eventually(lambda: runtime.db[PARKED_COLLECTION].find_one({"_id": stuck["id"]}))
            await eventually(lambda: runtime.db.records.find_one({"_id": record_id, "_outbox": []}))
        assert parked["attempts"] == ATTEMPTS and parked["collection"] == "records"
        assert parked["reason"].startswith("ValueError") and "bytes" in parked["reason"]
        assert parked["entry"]["id"] == stuck["id"] and parked["doc_id"] == record_id
        assert OUTBOX_PARKED.labels("records", "ValueError")._value.get() == before + 1
        warnings = [log for log in logs if log["event"].startswith("outbox entry parked")]
        assert len(warnings) == 1 and warnings[0]["entry_id"] == stuck["id"]
        tries = [log for log in logs if log["event"] == "outbox send failed" and log["entry_id"] == stuck["id"]]
        assert len(tries) == ATTEMPTS - 1
        # the event behind it was published, and so is the record's next event
        newest = _activity(record_id, "act-3")
        await runtime.db.records.update_one({"_id": record_id}, {"$push": {"_outbox": {"$each": outbox_entries([newest])}}})
        runtime.kick_outbox("records", record_id)
        arrived = await _arrived(stack, record_id, {later.id, newest.id})
        assert [header(r, "ce_id") for r in arrived] == [later.id, newest.id]
        assert await runtime.relay.parking.count() == 1
    finally:
        await runtime.stop()


async def test_the_count_of_failed_sends_survives_a_restart(stack) -> None:
    """A relay fails to send an entry at least twice and stops; the next relay (at most 3 tries) goes on
    counting from the stored count and parks the entry at its first failure, not after three more."""
    database = unique("parking").replace("-", "_")
    record_id = unique("int")
    stuck = _stuck(record_id)
    first = await _runtime(stack, database, max_attempts=1000)
    try:
        await first.db.records.insert_one({"_id": record_id, "_outbox": [stuck]})
        await eventually(lambda: first.db.records.find_one({"_id": record_id,
                                                            "_outbox.attempts": {"$gte": ATTEMPTS - 1}}))
    finally:
        await first.stop()
    stored = await _first_entry(stack, database, record_id)
    assert stored["attempts"] >= ATTEMPTS - 1 and await _parked(stack, database, stuck["id"]) is None
    second = await _runtime(stack, database)
    try:
        with capture_logs() as logs:
            parked = await eventually(lambda: second.db[PARKED_COLLECTION].find_one({"_id": stuck["id"]}))
        assert parked["attempts"] == stored["attempts"] + 1
        assert not [log for log in logs if log["event"] == "outbox send failed"]  # parked at its first try here
    finally:
        await second.stop()


async def _first_entry(stack, database: str, record_id: str) -> dict:
    client = AsyncMongoClient(stack.mongodb_uri)
    try:
        return (await client[database].records.find_one({"_id": record_id}))["_outbox"][0]
    finally:
        await client.close()


async def _parked(stack, database: str, entry_id: str) -> dict | None:
    client = AsyncMongoClient(stack.mongodb_uri)
    try:
        return await client[database][PARKED_COLLECTION].find_one({"_id": entry_id})
    finally:
        await client.close()


async def test_the_command_republishes_what_can_be_sent_and_keeps_what_cannot(stack) -> None:
    database = unique("parking").replace("-", "_")
    record_id = unique("int")
    runtime = await _runtime(stack, database)
    try:
        fixed = outbox_entries([_activity(record_id, "act-1")])[0]
        await runtime.relay.parking.park("records", record_id, fixed, reason="KafkaTimeoutError: test", attempts=5)
        await runtime.relay.parking.park("records", record_id, _stuck(record_id), reason="ValueError: test",
                                         attempts=5)
        command = [sys.executable, "-m", "icsuite_chassis.outbox_parked", "--service", "parking-test",
                   "--database", database, "--mongodb-uri", stack.mongodb_uri,
                   "--kafka-bootstrap-servers", stack.kafka_bootstrap]
        listed = await asyncio.to_thread(subprocess.run, [*command, "list"], capture_output=True, text=True)
        assert listed.returncode == 0 and listed.stdout.count('"id"') == 2, listed
        done = await asyncio.to_thread(subprocess.run, [*command, "republish"], capture_output=True, text=True)
        assert done.returncode == 1, done  # one entry still cannot be sent
        assert "republished 1 entries, 1 still parked" in done.stderr
        assert len(await _arrived(stack, record_id, {fixed["id"]})) == 1
        remaining = [d["_id"] async for d in runtime.db[PARKED_COLLECTION].find({})]
        assert remaining != [fixed["id"]] and len(remaining) == 1
    finally:
        await runtime.stop()
