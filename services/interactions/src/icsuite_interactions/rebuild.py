"""Rebuild the per-account timeline from ``ic.interactions.v1``, replaying the topic from the beginning.

    python -m icsuite_interactions.rebuild                   # into a fresh collection timeline_rebuild_<time>
    python -m icsuite_interactions.rebuild --into timeline_b # into a collection of your choice (emptied first)
    python -m icsuite_interactions.rebuild --activate        # then rename it to the live timeline collection

It reads every partition from its first offset up to the end offsets seen at the start (no consumer
group, nothing committed) and applies the same updates as the live projection, so the result equals
the live timeline once the live consumer has caught up to the same offsets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from icsuite_chassis.mongo import create_mongo_client, ensure_indexes
from icsuite_chassis.settings import load_settings
from icsuite_contracts.cloudevents import DecodeError, Envelope, from_kafka
from icsuite_contracts.interactions_v1 import TOPIC
from pymongo.asynchronous.database import AsyncDatabase

from .settings import InteractionsSettings
from .timeline import TIMELINE_TYPES, Timeline, timeline_indexes


@dataclass(frozen=True)
class RebuildReport:
    collection: str
    events: int
    skipped: int
    entries: int


async def _end_offsets(consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
    """Every partition of the topic, at its beginning; the end offsets to read up to (empty ones left out)."""
    for _ in range(100):
        partitions = list(consumer.assignment())
        if partitions:
            break
        await asyncio.sleep(0.1)  # without a group the consumer assigns itself every partition once it knows them
    else:
        raise RuntimeError(f"no partitions of {TOPIC} were assigned")
    await consumer.seek_to_beginning(*partitions)
    return {tp: end for tp, end in (await consumer.end_offsets(partitions)).items() if end > 0}


async def _replay(bootstrap: str, timeline: Timeline) -> tuple[int, int]:
    consumer = AIOKafkaConsumer(TOPIC, bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    applied = skipped = 0
    try:
        remaining = await _end_offsets(consumer)
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=500, max_records=2000)
            for tp, records in batches.items():
                end = remaining.get(tp, 0)
                wanted = [record for record in records if record.offset < end]
                envelopes = [e for e in map(_decode, wanted) if e is not None]
                await timeline.apply_in_order(envelopes)
                applied, skipped = applied + len(envelopes), skipped + len(wanted) - len(envelopes)
            for tp in list(remaining):
                if await consumer.position(tp) >= remaining[tp]:
                    del remaining[tp]
    finally:
        await consumer.stop()
    return applied, skipped


def _decode(record: Any) -> Envelope | None:
    try:
        envelope = from_kafka(record.headers or [], record.value or b"")
    except DecodeError:
        return None
    return envelope if envelope.type in TIMELINE_TYPES else None


async def rebuild_timeline(db: AsyncDatabase[dict[str, Any]], bootstrap: str, into: str) -> RebuildReport:
    """Replay the topic into the emptied collection ``into``."""
    await db[into].drop()
    await ensure_indexes(db, timeline_indexes(into))
    events, skipped = await _replay(bootstrap, Timeline(db[into]))
    return RebuildReport(into, events, skipped, await db[into].count_documents({}))


async def _main(into: str | None, activate: bool) -> RebuildReport:
    settings = load_settings(InteractionsSettings)
    client = create_mongo_client(settings.mongodb_uri, app_name="interactions-rebuild")
    db = client[settings.mongodb_database]
    target = into or f"timeline_rebuild_{datetime.now(UTC):%Y%m%d%H%M%S}"
    try:
        report = await rebuild_timeline(db, settings.kafka_bootstrap_servers, target)
        if activate and target != settings.timeline_collection:
            await client.admin.command("renameCollection", f"{db.name}.{target}",
                                       to=f"{db.name}.{settings.timeline_collection}", dropTarget=True)
    finally:
        await client.close()
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m icsuite_interactions.rebuild", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--into", help="the collection to rebuild into (emptied first)")
    parser.add_argument("--activate", action="store_true",
                        help="rename the rebuilt collection to the live timeline collection afterwards")
    args = parser.parse_args(argv)
    report = asyncio.run(_main(args.into, args.activate))
    print(json.dumps(asdict(report)))


if __name__ == "__main__":
    main()
