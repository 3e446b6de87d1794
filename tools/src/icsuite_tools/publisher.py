"""Publishing envelopes to Kafka with aiokafka (idempotent producer, ``acks=all``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Protocol, Self

from aiokafka import AIOKafkaProducer
from icsuite_contracts.cloudevents import Envelope, to_kafka


class Publisher(Protocol):
    """What the simulator and the demo loader need: send one envelope, get its delivery future."""

    async def send(self, envelope: Envelope) -> asyncio.Future[Any]: ...


class KafkaPublisher:
    """An aiokafka producer that speaks envelopes. Use as ``async with KafkaPublisher(bootstrap) as p``."""

    def __init__(self, bootstrap: str, *, linger_ms: int = 5, client_id: str = "icsuite-tools") -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=linger_ms,
            client_id=client_id, request_timeout_ms=15000,
        )

    async def __aenter__(self) -> Self:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def send(self, envelope: Envelope) -> asyncio.Future[Any]:
        """Queue ``envelope``; the returned future resolves when the broker has acknowledged it."""
        record = to_kafka(envelope)
        future: asyncio.Future[Any] = await self._producer.send(
            record.topic, record.value, key=record.key, headers=record.headers
        )
        return future


async def publish_all(publisher: Publisher, envelopes: Iterable[Envelope]) -> int:
    """Send every envelope and wait until all are acknowledged; the number sent."""
    futures = [await publisher.send(envelope) for envelope in envelopes]
    await asyncio.gather(*futures)
    return len(futures)
