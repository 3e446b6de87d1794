"""The simulator against the real Kafka of the test stack: what it says it published is on the topics."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from icsuite_contracts.cloudevents import from_kafka
from icsuite_tools.cli import main
from icsuite_tools.simulator import simulate

pytestmark = pytest.mark.integration
TOPICS = ("ic.contacts.v1", "ic.callback-requests.v1")


async def read_run(bootstrap: str, run_id: str, expect: int, timeout: float = 30.0) -> list[Any]:
    """Every record of ``run_id`` on the simulator's topics, read from the beginning."""
    prefixes = (f"sim-{run_id}-".encode(), f"cbr-{run_id}-".encode())
    consumer = AIOKafkaConsumer(*TOPICS, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        settle: float | None = None
        while time.monotonic() < (settle or deadline):
            batches = await consumer.getmany(timeout_ms=200)
            found += [r for rs in batches.values() for r in rs if r.key and r.key.startswith(prefixes)]
            if len(found) >= expect and settle is None:
                settle = time.monotonic() + 1.0  # a little longer, to see duplicates too
    finally:
        await consumer.stop()
    return found


async def test_published_counts_per_type_equal_the_summary(stack: Any) -> None:
    summary = await simulate(stack.kafka_bootstrap, rate=15, duration_s=2.0, seed=3, run_id="it-rate",
                             known_ratio=0.5)
    assert summary.scenarios == 30 and summary.failed == 0
    records = await read_run(stack.kafka_bootstrap, "it-rate", summary.events)
    envelopes = [from_kafka(r.headers, r.value) for r in records]
    assert Counter(e.type for e in envelopes) == summary.per_type
    contacts = {e.key for e in envelopes if e.topic == "ic.contacts.v1"}
    assert contacts == set(summary.contact_ids)
    requests = [r.key.decode() for r in records if r.topic == "ic.callback-requests.v1"]
    assert sorted(requests) == sorted(summary.request_ids)  # each once; partitions interleave
    assert 1.9 <= summary.elapsed_s < 5


def test_the_simulate_command_prints_a_json_summary(stack: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--bootstrap", stack.kafka_bootstrap, "--rate", "max", "--count", "25",
                 "--run-id", "it-cli", "--json", "--quiet"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["contacts"] + summary["callbacks"] == 25
    records = asyncio.run(read_run(stack.kafka_bootstrap, "it-cli", summary["events"]))
    assert len(records) == summary["events"] == sum(summary["per_type"].values())
