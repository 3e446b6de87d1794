"""FastStream Kafka wiring: an idempotent producer with acks=all and the publisher of envelopes.

Records carry only CloudEvents headers (``ce_*`` and ``content-type``): FastStream's own
``correlation_id`` header is switched off (its id generator yields nothing), because the correlation
travels as the CloudEvents extension ``ce_correlationid``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from icsuite_contracts.cloudevents import Envelope, from_document
from icsuite_contracts.personal import account_of, personal_paths
from icsuite_contracts.registry import model_for_type

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

    async def prepare_documents(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Find or create, in one key-vault change, the data keys the outbox ``entries`` will be sealed with
        (the relay calls it before it sends a batch), so that :meth:`send_document` finds them cached
        instead of going to the vault entry by entry."""
        if self._key_ring is None:
            return
        accounts = [account for entry in entries
                    if (account := account_of(entry.get("data"))) is not None and _sealed_type(entry.get("type"))]
        if accounts:
            await self._key_ring.writing_keys(accounts)

    async def send_document(self, entry: dict[str, Any]) -> asyncio.Future[Any]:
        """Hand an outbox entry to the producer without waiting for Kafka.

        The returned future completes with the record's metadata once Kafka acknowledged it (acks=all)
        or fails. Records with the same key go to the same partition in the order they were handed over,
        and the idempotent producer keeps that order.
        """
        envelope = from_document(entry)
        record = await encode_record(envelope, self._key_ring)
        producer = self._producer()
        if producer is not None:  # the record the broker's publish would write, without its per-call layers
            acked: asyncio.Future[Any] = await producer.send(record.topic, value=record.value, key=record.key,
                                                              headers=_wire_headers(record.headers))
        else:
            acked = await self._broker.publish(record.value, record.topic, key=record.key, no_confirm=True,
                                               headers={name: value.decode() if isinstance(value, bytes) else value
                                                        for name, value in record.headers})
        topic, ce_type = record.topic, envelope.type

        def _count(done: asyncio.Future[Any]) -> None:
            if not done.cancelled() and done.exception() is None:
                EVENTS_PUBLISHED.labels(topic, ce_type).inc()

        acked.add_done_callback(_count)
        return acked

    def _producer(self) -> Any | None:
        """The broker's started aiokafka producer, or None (not started, or a FastStream without that layout:
        then the broker's own publish is used). The outbox relay hands it every record of a batch: going
        through the broker's publish cost about as much again per record as the send itself (its command,
        middlewares and header dict; issue 22's profile)."""
        state = getattr(getattr(self._broker.config, "producer", None), "_producer", None)
        return getattr(state, "producer", None)

    async def publish_raw(self, topic: str, value: bytes, *, key: bytes | None,
                          headers: dict[str, str]) -> None:
        await self._broker.publish(value, topic, key=key, headers=headers)


def _wire_headers(headers: Sequence[tuple[str, Any]]) -> list[tuple[str, bytes]]:
    """``headers`` as the broker's publish writes them: ``content-type`` first, every value as bytes."""
    encoded = {"content-type": b""}
    for name, value in headers:
        encoded[name] = value if isinstance(value, bytes) else str(value).encode()
    return list(encoded.items())


def _sealed_type(ce_type: Any) -> bool:
    """Whether events of ``ce_type`` have personal fields (unknown types: no, their send fails as before)."""
    try:
        return bool(personal_paths(model_for_type(ce_type)))
    except (KeyError, TypeError):
        return False
