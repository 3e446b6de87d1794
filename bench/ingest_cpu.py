"""The interactions service's own CPU per contact event, in one process, without a stack.

``python -m bench.ingest_cpu [--events 6000] [--rounds 3]``: the simulator's contact events (the ingest
section's mix) go through the path the service runs for each of them, stage by stage, timed with
``process_time`` (CPU of this process only, so a busy machine disturbs it far less than a drain rate):

1. the consumer's decoding of the Kafka records (``decode_record``: headers, JSON, the Pydantic model);
2. the intake (``EventIntake.on_events`` in batches of 500: the record's decisions, the codec, the outbox
   entries) on the in-memory store, with a BSON round trip for every read and write as the driver does;
3. the relay's encoding of the outbox entries (``from_document`` + ``encode_record``);
4. the timeline's decoding of those records and 5. its projection (``project`` through the store);
with the services' garbage-collector settings (``tune_gc``).

Left out: the database and Kafka themselves, pymongo's and aiokafka's protocol work, FastStream, metrics
and logging; the ingest section's "process CPU per event" includes them. Use it to compare two trees:
run it in each, alternating (``PYTHONPATH`` at the other tree's sources), and compare the stages.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import bson
from bson.codec_options import CodecOptions
from icsuite_chassis.clock import utc_now
from icsuite_chassis.gc_tuning import tune_gc
from icsuite_chassis.shredding import decode_record, encode_record
from icsuite_chassis.store import InMemoryAggregateStore, Item
from icsuite_chassis.store.core import APPLIED_FIELD, APPLIED_KEEP, OUTBOX_FIELD, VERSION_FIELD, Write
from icsuite_chassis.store.projection import _decision
from icsuite_contracts.cloudevents import KafkaRecord, from_document, to_kafka
from icsuite_interactions.handlers import EventIntake
from icsuite_interactions.projections.timeline import EntryCodec, entry_key, project
from icsuite_interactions.repository import RecordCodec

from .ingest_parts import contact_events

BATCH = 500
_OPTIONS: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)


def _round_trip(doc: Mapping[str, Any]) -> dict[str, Any]:
    return bson.decode(bson.encode(doc), _OPTIONS)


class BsonStore(InMemoryAggregateStore[Any]):
    """The in-memory store with BSON in place of deep copies: what pymongo encodes and decodes."""

    @staticmethod
    def _without_outbox(doc: Mapping[str, Any]) -> dict[str, Any]:
        return _round_trip({k: v for k, v in doc.items() if k != OUTBOX_FIELD})

    @staticmethod
    def _apply(current: Mapping[str, Any] | None, write: Write) -> dict[str, Any]:
        bson.encode({"$set": write.set_fields, "$push": {"o": write.outbox, "a": write.applied}})
        doc = dict(current) if current is not None else {"_id": write.doc_id}
        doc.update(write.set_fields)
        for name in write.unset_fields:
            doc.pop(name, None)
        doc[VERSION_FIELD] = write.new_version
        doc[APPLIED_FIELD] = [*doc.get(APPLIED_FIELD, []), *write.applied][-APPLIED_KEEP:]
        doc[OUTBOX_FIELD] = [*doc.get(OUTBOX_FIELD, []), *write.outbox]
        return _round_trip(doc)


async def one_round(records: list[KafkaRecord]) -> dict[str, float]:
    """CPU seconds per stage for one pass over ``records``."""
    store = BsonStore("interactions", RecordCodec())
    kicked: list[Any] = []
    store._kick = lambda _collection, doc_id: kicked.append(doc_id)
    intake = EventIntake(store, None, clock=utc_now, self_service_grace_s=30)  # type: ignore[arg-type]
    timeline = BsonStore("timeline", EntryCodec())
    spent: dict[str, float] = defaultdict(float)

    def timed(stage: str, started: float) -> float:
        now = time.process_time()
        spent[stage] += now - started
        return now

    for start in range(0, len(records), BATCH):
        clock = time.process_time()
        envelopes = [await decode_record(r.headers, r.value, None) for r in records[start:start + BATCH]]
        clock = timed("1 decode contact events", clock)
        await intake.on_events(envelopes)
        clock = timed("2 intake: decisions, codec, outbox, BSON", clock)
        published = []
        for doc_id in dict.fromkeys(kicked):
            doc = store.documents[doc_id]
            for entry in _round_trip({"o": doc.get(OUTBOX_FIELD) or []})["o"]:
                published.append(await encode_record(from_document(entry), None))
            doc[OUTBOX_FIELD] = []
        kicked.clear()
        clock = timed("3 relay: encode the outbox entries", clock)
        projected = [await decode_record(r.headers, r.value, None) for r in published]
        clock = timed("4 timeline: decode", clock)
        items = [Item(key, _decision(project, e), e.id) for e in projected if (key := entry_key(e)) is not None]
        if items:
            await timeline.change_many(items)
        timed("5 timeline: project", clock)
    return spent


async def main(events: int, rounds: int) -> None:
    records = [to_kafka(envelope) for envelope in contact_events(events, seed=7)]
    tune_gc()  # the services' collector settings (as the bare pipeline and every service process)
    for n in range(rounds):
        spent = await one_round(records)
        for stage, seconds in sorted(spent.items()):
            print(f"round {n + 1}  {stage:42s} {seconds * 1000 / len(records):.4f} ms/event")
        print(f"round {n + 1}  {'total':42s} {sum(spent.values()) * 1000 / len(records):.4f} ms/event "
              f"({len(records)} events)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.rounds))
