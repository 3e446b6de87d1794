"""The ceiling for contact-event ingest: the minimal idempotent write of each event, without any framework.

aiokafka ``getmany`` (the chassis' batch size and waits: 500 records, 50 ms, fetch wait 100 ms), the same
Pydantic validation (``icsuite_contracts.cloudevents.from_kafka``), and per event one single-document upsert
on the same database, guarded by the event id (``{_id, _applied: {$ne: event_id}}``; a redelivery matches
nothing and its upsert is refused as a duplicate key), that sets the event's effect in the layout the
service stores (so :func:`bench.ingest.verify` checks both alike) and records the id in ``_applied``, all
in one unordered ``bulk_write`` per batch, then an explicit ``commit()``. The events of one record in a
batch go in one write (guarded by all their ids), as the suite's store writes each document once per
batch: a baseline that wrote once per event would be slower than the service it bounds. Only when such a
write is refused because some of its events were applied before (a redelivery cut differently) are that
record's events written one by one, each under its own guard. What it leaves out is everything
the suite adds around that: the typed record and its decisions (order, late events, opened once), the
version guard, FastStream, per-event metrics and logging context, the outbox and its relay, the timeline
projection, the self-service closer and the HTTP gateway.

Run by the benchmark as a separate process (``python -m bench.bare_pipeline``), configured by
``KAFKA_BOOTSTRAP_SERVERS``, ``MONGODB_URI``, ``BENCH_BARE_TOPIC``, ``BENCH_BARE_GROUP`` and
``BENCH_BARE_DATABASE``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer
from icsuite_chassis.gc_tuning import tune_gc
from icsuite_contracts.cloudevents import DecodeError, Envelope, from_kafka
from icsuite_contracts.contacts_v1 import ContactEnded, ContactSegmentRecorded, ContactStarted
from icsuite_interactions.domain.ids import field_key, interaction_id_for_contact
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.errors import BulkWriteError

GRACE = timedelta(seconds=3.0)
DUPLICATE_KEY = 11000
APPLIED_KEEP = 256


def effect(event: Any, now: datetime) -> dict[str, Any]:
    """The fields one contact event sets (``$set``), in the service's document layout."""
    media = f"media.{field_key(event.contact_id)}"
    fields: dict[str, Any] = {"contact_id": event.contact_id, f"{media}.media_item_id": event.contact_id}
    if isinstance(event, ContactStarted):
        fields.update({"opened_at": event.started_at, "channel": event.channel, "direction": event.direction,
                       f"{media}.started_at": event.started_at, f"{media}.media": event.channel})
    elif isinstance(event, ContactSegmentRecorded):
        segment = f"{media}.segments.{field_key(event.segment_id)}"
        fields.update({f"{segment}.segment_id": event.segment_id, f"{segment}.kind": event.kind,
                       f"{segment}.started_at": event.started_at, f"{segment}.ended_at": event.ended_at})
    elif isinstance(event, ContactEnded):
        fields.update({f"{media}.ended_at": event.ended_at, f"{media}.end_reason": event.reason,
                       "self_service_due_at": now + GRACE})
    return fields


def idempotent_write(envelopes: list[Envelope], now: datetime) -> UpdateOne:
    """One guarded upsert for the events of one record in a batch: all their effects, all their ids."""
    fields: dict[str, Any] = {}
    for envelope in envelopes:
        fields.update(effect(envelope.data, now))
    ids = [envelope.id for envelope in envelopes]
    event: Any = envelopes[0].data
    return UpdateOne({"_id": interaction_id_for_contact(event.contact_id), "_applied": {"$nin": ids}},
                     {"$set": fields, "$setOnInsert": {"status": "open", "created_at": now},
                      "$push": {"_applied": {"$each": ids, "$slice": -APPLIED_KEEP}}}, upsert=True)


def by_record(envelopes: list[Envelope]) -> list[list[Envelope]]:
    """The batch's events grouped per record, in their order."""
    groups: dict[str, list[Envelope]] = {}
    for envelope in envelopes:
        groups.setdefault(interaction_id_for_contact(envelope.data.contact_id), []).append(envelope)  # type: ignore[union-attr]
    return list(groups.values())


async def _bulk(records: Any, writes: list[UpdateOne]) -> list[int]:
    """An unordered bulk write; the indexes of the writes refused as a duplicate key (applied before)."""
    try:
        await records.bulk_write(writes, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        return [error["index"] for error in errors]
    return []


async def write(records: Any, envelopes: list[Envelope], now: datetime) -> None:
    """One write per record; a refused group is retried event by event, each refusal then a true duplicate."""
    groups = by_record(envelopes)
    refused = await _bulk(records, [idempotent_write(group, now) for group in groups])
    singles = [idempotent_write([envelope], now) for index in refused if len(groups[index]) > 1
               for envelope in groups[index]]
    if singles:
        await _bulk(records, singles)


async def run() -> None:
    tune_gc()  # the same garbage-collector settings as the services (icsuite_chassis.serve)
    consumer = AIOKafkaConsumer(
        os.environ["BENCH_BARE_TOPIC"], bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        group_id=os.environ["BENCH_BARE_GROUP"], enable_auto_commit=False, auto_offset_reset="earliest",
        fetch_max_wait_ms=100)  # the chassis' setting (aiokafka's default is 500 ms)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(os.environ["MONGODB_URI"], tz_aware=True)
    records = client[os.environ["BENCH_BARE_DATABASE"]]["interactions"]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await consumer.start()
    print("bare pipeline ready", flush=True)
    invalid = batches = 0
    busy = 0.0
    try:
        while not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=50, max_records=500)
            if not fetched:
                continue
            started = time.perf_counter()
            now = datetime.now(UTC)
            envelopes: list[Envelope] = []
            for messages in fetched.values():
                for message in messages:
                    try:
                        envelope = from_kafka(message.headers, message.value)
                    except DecodeError:
                        invalid += 1
                        continue
                    if isinstance(envelope.data, (ContactStarted, ContactSegmentRecorded, ContactEnded)):
                        envelopes.append(envelope)
            if envelopes:
                await write(records, envelopes, now)
            await consumer.commit()
            batches += 1
            busy += time.perf_counter() - started
    finally:
        print(f"bare pipeline stopping: invalid={invalid} batches={batches} "
              f"busy_s={busy:.3f}", flush=True)
        await consumer.stop()
        await client.close()


if __name__ == "__main__":
    asyncio.run(run())
