"""The ceiling for contact-event ingest: the same effect as the interactions service, without any framework.

aiokafka ``getmany`` (the chassis' batch size and waits: 500 records, 50 ms, fetch wait 100 ms), the same Pydantic validation
(``icsuite_contracts.cloudevents.from_kafka``), the same update per event (the service's pure
``event_writes`` functions, so the stored documents are equal), one unordered PyMongo ``bulk_write`` of
the same writes: one ``$in`` read of the records' state, then the service's own plan
(``repository.plan_event``: applied before? closed? already opened?) into compare-and-set upserts
on the version read (``_applied``, ``$setOnInsert``, outbox entries in the same write), plus the
self-service reminders, then an explicit ``commit()``. What it leaves out is everything the
suite adds around it: FastStream, per-event metrics and logging context, the outbox relay that
publishes the stored events, the timeline projection, the self-service closer and the HTTP gateway.

Run by the benchmark as a separate process (``python -m bench.bare_pipeline``), configured by
``KAFKA_BOOTSTRAP_SERVERS``, ``MONGODB_URI``, ``BENCH_BARE_TOPIC``, ``BENCH_BARE_GROUP`` and
``BENCH_BARE_DATABASE``. Writes that lost their compare-and-set (duplicate key) are read again and
re-planned by the same ``apply_versioned`` loop the service uses.
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
from icsuite_chassis.versioned import VERSION_FIELD, apply_versioned
from icsuite_contracts.cloudevents import DecodeError, from_kafka
from icsuite_interactions.event_writes import contact_ended, contact_segment, contact_started
from icsuite_interactions.repository import STATE_FIELDS, plan_event
from pymongo import AsyncMongoClient, UpdateOne

WRITES = {"ic.contact.started.v1": contact_started, "ic.contact.segment.v1": contact_segment,
          "ic.contact.ended.v1": contact_ended}
GRACE = timedelta(seconds=3.0)


async def run() -> None:
    tune_gc()  # the same garbage-collector settings as the services (icsuite_chassis.serve)
    consumer = AIOKafkaConsumer(
        os.environ["BENCH_BARE_TOPIC"], bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        group_id=os.environ["BENCH_BARE_GROUP"], enable_auto_commit=False, auto_offset_reset="earliest",
        fetch_max_wait_ms=100)  # the chassis' setting (aiokafka's default is 500 ms)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(os.environ["MONGODB_URI"], tz_aware=True)
    db = client[os.environ["BENCH_BARE_DATABASE"]]
    records, due = db["interactions"], db["self_service_due"]
    await records.create_index([("_id", 1), (VERSION_FIELD, 1)], unique=True)  # as the service declares it
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
            if writes:  # the service's own read → decide → compare-and-set loop, on raw PyMongo collections
                await apply_versioned(records, writes, lambda w: w.interaction_id, plan_event, fields=STATE_FIELDS)
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
