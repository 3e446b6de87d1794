"""Processes built on the chassis, killed with SIGKILL at the worst moments, lose and double nothing."""

import asyncio
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from icsuite_chassis.testing import eventually, header, publish_envelopes, read_topic, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactStarted
from icsuite_devstack.processes import ServiceProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]
HARNESS = Path(__file__).parent / "programs" / "harness.py"


def _process(tmp_path: Path, stack, mode: str, **env: str) -> ServiceProcess:
    return ServiceProcess(f"harness-{mode}", [sys.executable, str(HARNESS), mode], log_path=tmp_path / f"{mode}.log",
                          env={"KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap, "MONGODB_URI": stack.mongodb_uri,
                               **env})


async def _wait_exit(process: ServiceProcess, timeout: float = 60) -> int | None:
    for _ in range(int(timeout * 10)):
        if not process.is_running:
            return process.returncode
        await asyncio.sleep(0.1)
    raise AssertionError(f"{process.name} did not exit:\n{process.log_tail()}")


async def test_consumer_killed_after_storing_before_commit_applies_the_event_once(stack, tmp_path) -> None:
    db_name, group, contact = unique("crash"), unique("crash-group"), unique("c")
    first = new_envelope(ContactStarted(contact_id=contact, channel="phone", direction="inbound",
                                        from_address="+4930123456", started_at=datetime.now(UTC)), source="/t")
    await publish_envelopes(stack.kafka_bootstrap, first)
    marker = tmp_path / "crashed"
    crashing = _process(tmp_path, stack, "count", DB=db_name, GROUP=group, CRASH_MARKER=str(marker), CONTACT=contact).start()
    assert await _wait_exit(crashing) == -9, crashing.log_tail()
    assert marker.read_text() == first.id
    client: AsyncMongoClient = AsyncMongoClient(stack.mongodb_uri)
    counters = client[db_name].counters
    assert (await counters.find_one({"_id": contact}))["n"] == 1   # stored, offset not committed

    second = new_envelope(ContactStarted(contact_id=contact, channel="phone", direction="inbound",
                                         from_address="+4930123456", started_at=datetime.now(UTC)), source="/t")
    await publish_envelopes(stack.kafka_bootstrap, second)
    restarted = _process(tmp_path, stack, "count", DB=db_name, GROUP=group, CRASH_MARKER=str(marker), CONTACT=contact).start()
    try:
        doc = await eventually(lambda: counters.find_one({"_id": contact, "_applied": second.id}), timeout=60)
        # same key, same partition: the redelivered first event was handled before the second one
        assert doc["n"] == 2 and doc["_applied"] == [first.id, second.id]
    finally:
        restarted.terminate()
        await client.close()


async def test_outbox_publishes_what_a_crash_left_behind_exactly_once(stack, tmp_path) -> None:
    db_name, prefix, n = unique("outbox"), unique("ix"), 40
    writer = _process(tmp_path, stack, "write", DB=db_name, N=str(n), PREFIX=prefix).start()
    assert await _wait_exit(writer) == 0, writer.log_tail()   # stored, never published: as after a crash

    relay = _process(tmp_path, stack, "relay", DB=db_name).start()
    try:
        records = await read_topic(stack.kafka_bootstrap, "ic.interactions.v1",
                                   lambda r: r.key.decode().startswith(prefix + "-"), expect=n, timeout=60)
        assert Counter(header(r, "ce_id") for r in records).most_common(1)[0][1] == 1
        assert len(records) == n
        client: AsyncMongoClient = AsyncMongoClient(stack.mongodb_uri)
        pending = await client[db_name].aggregates.count_documents({"_outbox.0": {"$exists": True}})
        await client.close()
        assert pending == 0
    finally:
        relay.terminate()


async def test_relay_killed_between_publish_and_mark_republishes_the_same_event_ids(stack, tmp_path) -> None:
    db_name, prefix, n = unique("outbox-kill"), unique("iy"), 30
    writer = _process(tmp_path, stack, "write", DB=db_name, N=str(n), PREFIX=prefix).start()
    assert await _wait_exit(writer) == 0, writer.log_tail()
    killed = _process(tmp_path, stack, "relay", DB=db_name, KILL_AFTER="10", RELAY_BATCH="8").start()
    assert await _wait_exit(killed) == -9, killed.log_tail()
    relay = _process(tmp_path, stack, "relay", DB=db_name).start()
    try:
        records = await read_topic(stack.kafka_bootstrap, "ic.interactions.v1",
                                   lambda r: r.key.decode().startswith(prefix + "-"), expect=n, timeout=60)
        ids = Counter(header(r, "ce_id") for r in records)
        assert len(ids) == n                       # nothing lost
        # what was in flight at the kill (at most one batch: the sweep flushes 8 documents at a time) is
        # published again with the same ce_id, so consumers that deduplicate on it (every consumer of
        # the suite, see the test above) apply it once
        assert len(records) - n <= 8
        print(f"\nrelay kill: {n} events, {len(records)} records on the topic, {len(records) - n} redelivered")
    finally:
        relay.terminate()
