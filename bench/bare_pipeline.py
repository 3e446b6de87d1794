"""The ceiling for contact-event ingest: the same effect as the interactions service, without any framework.

aiokafka ``getmany`` (the chassis' batch size and waits: 500 records, 50 ms, fetch wait 100 ms), the same Pydantic validation
(``icsuite_contracts.cloudevents.from_kafka``), the same update per event (the service's pure
``event_writes`` functions, so the stored documents are equal), one unordered PyMongo ``bulk_write`` of
the same guarded upserts (``_applied`` guard, ``$setOnInsert``, outbox entries stored in the same write)
plus the self-service reminders, then an explicit ``commit()``. What it leaves out is everything the
suite adds around it: FastStream, per-event metrics and logging context, the outbox relay that
publishes the stored events, the timeline projection, the self-service closer and the HTTP gateway.

Run by the benchmark as a separate process (``python -m bench.bare_pipeline``), configured by
``KAFKA_BOOTSTRAP_SERVERS``, ``MONGODB_URI``, ``BENCH_BARE_TOPIC``, ``BENCH_BARE_GROUP`` and
``BENCH_BARE_DATABASE``. Refused upserts (duplicate key: the event was applied before) are counted and
checked one by one, as the service does.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer
from icsuite_chassis.inbox import APPLIED_FIELD, guarded_update, merge_updates
from icsuite_contracts.cloudevents import DecodeError, from_kafka
from icsuite_interactions.event_writes import contact_ended, contact_segment, contact_started
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.errors import BulkWriteError

WRITES = {"ic.contact.started.v1": contact_started, "ic.contact.segment.v1": contact_segment,
          "ic.contact.ended.v1": contact_ended}
GRACE = timedelta(seconds=3.0)


def guarded(write: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Filter and update of the interactions repository's guarded upsert (``apply_events``)."""
    flt = {"_id": write.interaction_id, "status": {"$ne": "closed"}, **write.only_if,
           APPLIED_FIELD: {"$ne": write.event_id}}
    update = merge_updates(write.update, {"$setOnInsert": {"status": "open", "created_at": write.now}})
    return flt, guarded_update(write.event_id, update, write.publish)


async def run() -> None:
    consumer = AIOKafkaConsumer(
        os.environ["BENCH_BARE_TOPIC"], bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        group_id=os.environ["BENCH_BARE_GROUP"], enable_auto_commit=False, auto_offset_reset="earliest",
        fetch_max_wait_ms=100)  # the chassis' setting (aiokafka's default is 500 ms)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(os.environ["MONGODB_URI"], tz_aware=True)
    db = client[os.environ["BENCH_BARE_DATABASE"]]
    records, due = db["interactions"], db["self_service_due"]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await consumer.start()
    print("bare pipeline ready", flush=True)
    invalid = refused = batches = 0
    busy = 0.0
    try:
        while not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=50, max_records=500)
            if not fetched:
                continue
            started = time.perf_counter()
            now = datetime.now(UTC)
            writes, ended = [], []
            for messages in fetched.values():
                for message in messages:
                    try:
                        envelope = from_kafka(message.headers, message.value)
                    except DecodeError:
                        invalid += 1
                        continue
                    make = WRITES.get(envelope.type)
                    if make is None:
                        continue
                    write = make(envelope, now)
                    writes.append(write)
                    if envelope.type == "ic.contact.ended.v1":
                        ended.append(write.interaction_id)
            if ended:
                await due.bulk_write([UpdateOne({"_id": i}, {"$set": {"due_at": now + GRACE}}, upsert=True)
                                      for i in dict.fromkeys(ended)], ordered=False)
            if writes:
                try:
                    await records.bulk_write([UpdateOne(*guarded(w), upsert=True) for w in writes], ordered=False)
                except BulkWriteError as exc:
                    for error in exc.details.get("writeErrors", []):
                        refused += 1
                        write = writes[error["index"]]
                        applied = await records.find_one({"_id": write.interaction_id,
                                                          APPLIED_FIELD: write.event_id}, {"_id": 1})
                        if applied is None:  # not applied yet: apply it without the upsert
                            await records.update_one(*guarded(write))
            await consumer.commit()
            batches += 1
            busy += time.perf_counter() - started
    finally:
        print(f"bare pipeline stopping: invalid={invalid} refused={refused} batches={batches} "
              f"busy_s={busy:.3f}", flush=True)
        await consumer.stop()
        await client.close()


if __name__ == "__main__":
    asyncio.run(run())
