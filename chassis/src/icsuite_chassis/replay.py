"""Replay a topic from its first offset to the end offsets seen when the replay starts.

For rebuilding a projection (:meth:`icsuite_chassis.store.projection.ProjectionWriter.rebuild`): no
consumer group and nothing committed; every partition is read from its beginning up to the end offset it
had when the replay began, in batches of decoded envelopes. A message that cannot be decoded is skipped
and counted (the live consumer has dead-lettered it).

    report = await writer.rebuild(topic_replay(bootstrap, "ic.interactions.v1"))
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from icsuite_contracts.cloudevents import DecodeError, Envelope

from .data_keys import KeyRing
from .shredding import decode_record

ASSIGNMENT_WAIT_S = 10.0


@dataclass
class ReplayCounts:
    events: int = 0
    skipped: int = 0


async def _end_offsets(consumer: AIOKafkaConsumer, topic: str) -> dict[TopicPartition, int]:
    """Every partition at its beginning; the end offsets to read up to (empty partitions left out)."""
    for _ in range(int(ASSIGNMENT_WAIT_S / 0.1)):
        partitions = list(consumer.assignment())
        if partitions:
            break
        await asyncio.sleep(0.1)  # without a group the consumer assigns itself every partition once it knows them
    else:
        raise RuntimeError(f"no partitions of {topic} were assigned")
    await consumer.seek_to_beginning(*partitions)
    return {tp: end for tp, end in (await consumer.end_offsets(partitions)).items() if end > 0}


async def _decode(record: Any, key_ring: KeyRing | None) -> Envelope | None:
    try:
        return await decode_record(record.headers or [], record.value or b"", key_ring)
    except DecodeError:
        return None


async def replay_topic(bootstrap: str, topic: str, *, counts: ReplayCounts | None = None,
                       max_records: int = 2000, key_ring: KeyRing | None = None) -> AsyncIterator[Sequence[Envelope]]:
    """The topic's messages up to the end offsets seen at the start, as batches of envelopes.

    With a ``key_ring`` the sealed personal fields are opened, or read erased where the key was erased."""
    counts = counts if counts is not None else ReplayCounts()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        remaining = await _end_offsets(consumer, topic)
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=500, max_records=max_records)
            for tp, records in fetched.items():
                wanted = [record for record in records if record.offset < remaining.get(tp, 0)]
                envelopes = [e for e in [await _decode(record, key_ring) for record in wanted] if e is not None]
                counts.events += len(envelopes)
                counts.skipped += len(wanted) - len(envelopes)
                if envelopes:
                    yield envelopes
            for tp in list(remaining):
                if await consumer.position(tp) >= remaining[tp]:
                    del remaining[tp]
    finally:
        await consumer.stop()


def topic_replay(bootstrap: str, topic: str, *, counts: ReplayCounts | None = None,
                 key_ring: KeyRing | None = None) -> Callable[[], AsyncIterator[Sequence[Envelope]]]:
    """A replay of ``topic`` as :meth:`ProjectionWriter.rebuild` takes it (started when the rebuild asks)."""
    return lambda: replay_topic(bootstrap, topic, counts=counts, key_ring=key_ring)
