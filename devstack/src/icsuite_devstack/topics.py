"""Creates the suite's Kafka topics with their partition counts (the broker creates none itself)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Sequence

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic

log = logging.getLogger(__name__)

TopicSpec = tuple[str, int]

TOPIC_ALREADY_EXISTS = 36


class TopicError(RuntimeError):
    """The broker refused to create a topic."""


def default_topic_specs() -> list[TopicSpec]:
    """Every topic of the contracts registry (DLQs included), or none before the registry exists."""
    try:
        from icsuite_contracts.registry import all_topic_specs
    except ImportError:
        log.warning("icsuite_contracts.registry.all_topic_specs is not available: no topics created")
        return []
    return [(str(name), int(partitions)) for name, partitions in all_topic_specs()]


async def create_topics(
    bootstrap: str, specs: Sequence[TopicSpec] | None = None, *, timeout: float = 30.0
) -> list[str]:
    """Create the missing topics and wait until each partition has a leader; return the new names.

    Idempotent: existing topics are kept; one with fewer partitions than asked for is grown.
    """
    wanted = dict(default_topic_specs() if specs is None else specs)
    if not wanted:
        return []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    await admin.start()
    try:
        present = set(await admin.list_topics())
        existing = await _partition_counts(admin, [name for name in wanted if name in present])
        missing = [name for name in wanted if name not in existing]
        if missing:
            response = await admin.create_topics(
                [NewTopic(name, wanted[name], 1) for name in missing],
                timeout_ms=int(timeout * 1000),
            )
            for name, code, message in response.topic_errors:
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    raise TopicError(f"cannot create topic {name}: error {code} {message}")
        await _grow(admin, existing, wanted)
        await _wait_for_leaders(admin, list(wanted), timeout)
        return missing
    finally:
        await admin.close()


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    described = await admin.describe_topics(names)
    return {topic["topic"]: len(topic["partitions"]) for topic in described}


async def _grow(admin: AIOKafkaAdminClient, existing: dict[str, int], wanted: dict[str, int]) -> None:
    for name, count in existing.items():
        if count < wanted[name]:
            log.warning("topic %s has %d partitions, growing it to %d", name, count, wanted[name])
            await admin.create_partitions({name: NewPartitions(total_count=wanted[name])})
        elif count > wanted[name]:
            log.warning("topic %s has %d partitions, more than the %d asked for", name, count, wanted[name])


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        described = await admin.describe_topics(names)
        leaderless = [
            topic["topic"]
            for topic in described
            if topic["error_code"] != 0
            or not topic["partitions"]
            or any(partition["leader"] < 0 for partition in topic["partitions"])
        ]
        if not leaderless:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TopicError(f"topics without a partition leader after {timeout:.0f} s: {leaderless}")
        await asyncio.sleep(0.2)


def create_topics_blocking(
    bootstrap: str, specs: Sequence[TopicSpec] | None = None, *, timeout: float = 30.0
) -> list[str]:
    """:func:`create_topics` for synchronous callers, also from inside a running event loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, create_topics(bootstrap, specs, timeout=timeout)).result()
