"""Smoke test of the benchmark harness with a tiny size: the bare pipeline drains, nothing is lost or doubled,
and the report renders. It asserts no speed; `make bench` measures (see bench/README.md)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bench package lives at the repository root
from bench.ingest import PARTITIONS, BarePipeline, Producer, contact_events, drain_rate, verify  # noqa: E402
from bench.report import markdown  # noqa: E402
from bench.common import unique  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(60)]


async def test_bare_pipeline_drains_a_tiny_backlog_without_loss(stack, mongo_client, tmp_path: Path) -> None:
    topic = unique("bench.smoke.")
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    bare = BarePipeline(stack.env(), tmp_path, topic)
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
        await asyncio.sleep(1)  # let the new topic reach the metadata of every client
        events = contact_events(120, seed=3)
        async with Producer(stack.kafka_bootstrap) as producer:
            assert await producer.flood(events, topic) > 0
        bare.start()
        drained = await drain_rate(admin, bare.group, topic, 0, len(events), bare.process.pid, timeout=40)
        assert "timeout_s" not in drained, drained  # every event committed (a tiny backlog may fit one batch)
        checked = await verify(mongo_client[bare.database]["interactions"], events)
        assert checked["lost"] == 0 and checked["duplicated"] == 0, checked
    finally:
        bare.stop()
        await admin.close()
    table = markdown({"machine": {"cpus": 2}, "ingest": {
        "backlog_events": len(events), "suite_drain": {"events_per_s": None}, "bare_drain": drained | checked,
        "ratio": None, "rates": []}})
    assert "| Ingest: lost / duplicated effects" in table


async def test_bare_write_applies_a_redelivery_cut_differently_once(mongo_client) -> None:
    """The bare pipeline writes a record's events of a batch together; a redelivery whose batch holds some of
    them and more (a consumer that died after the write, before its commit) still applies each event once."""
    from datetime import UTC, datetime

    from bench.bare_pipeline import write

    events = contact_events(60, seed=5)
    first, redelivered = events[:40], events[20:]  # the redelivery repeats 20 events and brings 20 new ones
    records = mongo_client[unique("bench_bare_")]["interactions"]
    now = datetime.now(UTC)
    await write(records, first, now)
    assert (await verify(records, first))["lost"] == 0
    await write(records, redelivered, now)
    await write(records, redelivered, now)  # the same batch again: every group refused, nothing changes
    checked = await verify(records, events)
    assert checked["lost"] == 0 and checked["duplicated"] == 0, checked
    assert checked["records"] < len(events)  # several events per record: the grouping was exercised
