"""FastStream Kafka wiring: an idempotent producer with acks=all and the publisher of envelopes.

Records carry only CloudEvents headers (``ce_*`` and ``content-type``): FastStream's own
``correlation_id`` header is switched off (its id generator yields nothing), because the correlation
travels as the CloudEvents extension ``ce_correlationid``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from icsuite_contracts.cloudevents import Envelope, from_document

from .data_keys import KeyRing
from .metrics import EVENTS_PUBLISHED
from .shredding import encode_record


def kafka_security(protocol: str, mechanism: str, username: str | None,
                   password: str | None) -> BaseSecurity | None:
    """SASL/SCRAM credentials for ``SASL_PLAINTEXT`` or ``SASL_SSL`` (Strimzi ``KafkaUser``); None for plaintext."""
    if protocol == "PLAINTEXT":
        return None
    if not username or not password:
        raise ValueError(f"{protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
    scram = SASLScram512 if mechanism == "SCRAM-SHA-512" else SASLScram256
    return scram(username, password, use_ssl=protocol == "SASL_SSL")


def create_broker(bootstrap_servers: str, *, client_id: str, security: BaseSecurity | None = None) -> KafkaBroker:
    """A broker whose producer never loses or reorders an acknowledged event."""
    return KafkaBroker(
        bootstrap_servers,
        security=security,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=1,
        request_timeout_ms=15_000,
        logger=None,
        id_generator=_no_correlation_header,
    )


def _no_correlation_header() -> str:
    return ""  # FastStream writes a correlation_id header only for a non-empty id


class EventPublisher:
    """Publishes contract envelopes as CloudEvents in Kafka binary mode, their personal fields sealed with
    the key ring's per-account keys when it has one (crypto-shredding, :mod:`.shredding`)."""

    def __init__(self, broker: KafkaBroker, key_ring: KeyRing | None = None):
        self._broker = broker
        self._key_ring = key_ring

    async def publish(self, envelope: Envelope) -> None:
        record = await encode_record(envelope, self._key_ring)
        headers = {name: value.decode() if isinstance(value, bytes) else value
                   for name, value in record.headers}
        await self._broker.publish(record.value, record.topic, key=record.key, headers=headers)
        EVENTS_PUBLISHED.labels(record.topic, envelope.type).inc()

    async def publish_document(self, entry: dict[str, Any]) -> None:
        await self.publish(from_document(entry))

    async def send_document(self, entry: dict[str, Any]) -> asyncio.Future[Any]:
        """Hand an outbox entry to the producer without waiting for Kafka.

        The returned future completes with the record's metadata once Kafka acknowledged it (acks=all)
        or fails. Records with the same key go to the same partition in the order they were handed over,
        and the idempotent producer keeps that order.
        """
        envelope = from_document(entry)
        record = await encode_record(envelope, self._key_ring)
        headers = {name: value.decode() if isinstance(value, bytes) else value
                   for name, value in record.headers}
        acked: asyncio.Future[Any] = await self._broker.publish(
            record.value, record.topic, key=record.key, headers=headers, no_confirm=True)
        topic, ce_type = record.topic, envelope.type

        def _count(done: asyncio.Future[Any]) -> None:
            if not done.cancelled() and done.exception() is None:
                EVENTS_PUBLISHED.labels(topic, ce_type).inc()

        acked.add_done_callback(_count)
        return acked

    async def publish_raw(self, topic: str, value: bytes, *, key: bytes | None,
                          headers: dict[str, str]) -> None:
        await self._broker.publish(value, topic, key=key, headers=headers)
