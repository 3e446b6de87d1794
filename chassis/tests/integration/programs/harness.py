"""A small process built on the chassis, for tests that kill it at chosen points.

Modes (argv[1]):
  count     consume ic.contacts.v1 in group $GROUP and count the started events of contact $CONTACT with
            the aggregate store; with $CRASH_MARKER set and missing, SIGKILL itself right after storing the first
            effect (so before the offset is committed).
  write     store $N documents in $DB.aggregates, each with one outbox event, without publishing them.
  relay     run the outbox relay over $DB.aggregates; with $KILL_AFTER=k, SIGKILL itself right after the
            k-th event is acknowledged by Kafka (so before it is marked as published); $RELAY_BATCH
            caps the relay's batches (documents per flush).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from icsuite_chassis.kafka import EventPublisher
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.settings import ServiceSettings
from icsuite_chassis.store import Change, MongoAggregateStore, PlainCodec
from icsuite_contracts.cloudevents import Envelope, new_envelope
from icsuite_contracts.interactions_v1 import ActivityRecorded


def _settings() -> ServiceSettings:
    return ServiceSettings(service_name="harness", kafka_bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                           mongodb_uri=os.environ["MONGODB_URI"], mongodb_database=os.environ["DB"],
                           outbox_sweep_interval_s=0.5)


async def count() -> None:
    runtime = ServiceRuntime(_settings())
    marker = os.environ.get("CRASH_MARKER")
    counters: MongoAggregateStore[dict[str, Any]] = MongoAggregateStore(runtime.db, "counters", PlainCodec())

    async def on_started(envelope: Envelope) -> None:
        if envelope.data.contact_id != os.environ["CONTACT"]:
            return  # the topic is shared with other tests
        await counters.change(envelope.data.contact_id,
                              lambda current: Change({"n": (current.state["n"] if current else 0) + 1}),
                              event_id=envelope.id)
        if marker and not Path(marker).exists():
            Path(marker).write_text(envelope.id)
            os.kill(os.getpid(), signal.SIGKILL)

    runtime.add_consumer(os.environ["GROUP"], ["ic.contacts.v1"], {"ic.contact.started.v1": on_started})
    await runtime.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def write() -> None:
    runtime = ServiceRuntime(_settings())
    aggregates: MongoAggregateStore[dict[str, Any]] = MongoAggregateStore(runtime.db, "aggregates", PlainCodec())
    for i in range(int(os.environ["N"])):
        event = ActivityRecorded(interaction_id=f"{os.environ['PREFIX']}-{i}", activity_id=f"act-{i}",
                                 kind="note_added", at=datetime.now(UTC), details={})
        envelope = new_envelope(event, source="/harness")
        await aggregates.change(f"agg-{i}", lambda _, i=i, envelope=envelope: Change({"i": i}, [envelope]),
                                event_id=f"cmd-{i}")
    print("written", flush=True)


class _KillingPublisher(EventPublisher):
    def __init__(self, inner: EventPublisher, kill_after: int):
        self._inner, self._left = inner, kill_after

    async def publish_document(self, entry: dict[str, Any]) -> None:
        await self._inner.publish_document(entry)
        self._acknowledged()

    async def send_document(self, entry: dict[str, Any]) -> asyncio.Future[Any]:
        acked = await self._inner.send_document(entry)
        acked.add_done_callback(lambda done: self._acknowledged() if done.exception() is None else None)
        return acked

    def _acknowledged(self) -> None:
        self._left -= 1
        if self._left == 0:
            os.kill(os.getpid(), signal.SIGKILL)


async def relay() -> None:
    runtime = ServiceRuntime(_settings(), outbox_collections=["aggregates"])
    if os.environ.get("RELAY_BATCH"):
        runtime.relay._max_batch = int(os.environ["RELAY_BATCH"])
    kill_after = int(os.environ.get("KILL_AFTER", "0"))
    if kill_after:
        runtime.relay._publisher = _KillingPublisher(runtime.publisher, kill_after)
    await runtime.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run({"count": count, "write": write, "relay": relay}[sys.argv[1]]())
