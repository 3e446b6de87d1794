"""Consumer groups that start at the end of their topics: a section's service consumes only what the section
publishes, not the events earlier sections left on the suite's topics.

``make bench`` runs its sections one after the other on one stack. The ingest section alone leaves some 100,000
contact events on ic.contacts.v1 and more on ic.interactions.v1; a service started later with new consumer
groups would read all of them from the beginning while its section measures it (the identification section's
phone ratio was 10.57 in the run of 87a5b61 mostly for that reason). Committing the end offsets for the
groups before the service starts keeps that replay out of the figures; each section reports what it skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def start_groups_at_the_end(bootstrap: str, groups: Mapping[str, Sequence[str]]) -> int:
    """Commit, for each consumer group id in ``groups``, the end offsets of its topics. Returns the number of
    events so skipped (topics that do not exist yet have nothing to skip)."""
    names = sorted({t for topics in groups.values() for t in topics})
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    partitions = {d["topic"]: [TopicPartition(d["topic"], p["partition"]) for p in d["partitions"]]
                  for d in described}
    skipped = 0
    for group_id, topics in groups.items():
        assigned = [tp for t in topics for tp in partitions.get(t, [])]
        if not assigned:
            continue
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(assigned)
            ends = await consumer.end_offsets(assigned)
            await consumer.commit(ends)
            skipped += sum(ends.values())
        finally:
            await consumer.stop()
    return skipped
