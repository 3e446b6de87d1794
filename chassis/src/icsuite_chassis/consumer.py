"""Consumers that commit only after their effect is stored, retry, and dead-letter what cannot be handled.

Each consumer is a FastStream batch subscriber with manual acknowledgement: the records of a batch are
decoded and handled in order, and the offsets are committed once all effects of the batch are stored.
A record that is not JSON, fails its model, has an unknown ``ce_type`` or keeps failing after retries
goes to ``<topic>.dlq`` with the reason, the consumer's name and the original headers, and the batch
goes on. While MongoDB or Kafka is unreachable nothing is dead-lettered: the batch is retried until the
infrastructure answers again, and a crash before the commit redelivers it (handlers are idempotent).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from icsuite_contracts.cloudevents import DecodeError, Envelope
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import ConnectionFailure, ExecutionTimeout, WriteConcernError

from .data_keys import KeyRing
from .dead_letters import dead_letter_record, error_location, park_dead_letter
from .kafka import EventPublisher
from .limits import EventTooLarge
from .logging import bind_event_context, clear_event_context, get_logger
from .metrics import CONSUMER_LAG, CONSUMER_WAITING, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, HANDLE_LATENCY
from .shredding import decode_record
from .tracing import batch_span, event_span
from .errors import StoreConflict

Handler = Callable[[Envelope], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (ConnectionFailure, ExecutionTimeout, WriteConcernError,
                                                     KafkaError)
_log = get_logger(__name__)


class Reject(Exception):
    """Raised by a handler for an event that can never be applied: dead-lettered at once, no retry."""


@dataclass(frozen=True)
class ConsumerSpec:
    """One consumer group: its name, the topics it reads and a handler per ``ce_type``.

    Event types of those topics without a handler are skipped (committed, not dead-lettered).
    With ``batch_handler``, the decoded events of a batch that have a handler are given to it in one
    call (for one bulk write); if it raises, the batch falls back to the per-event handlers, with their
    retries, ``Reject`` and dead-lettering. Both must be idempotent, as every handler is.
    """

    name: str
    topics: Sequence[str]
    handlers: Mapping[str, Handler]
    retries: int = 3
    retry_backoff_s: float = 0.2
    max_records: int = 500
    batch_timeout_ms: int = 50
    fetch_max_wait_ms: int = 100
    fetch_min_bytes: int = 1  # above 1: the broker holds a fetch (up to fetch_max_wait_ms) to fill larger batches
    after_batch: Callable[[], Awaitable[None]] | None = field(default=None)
    batch_handler: BatchHandler | None = field(default=None)
    conflict_retries: int = 20  # then dead-lettered as conflict_retries_exhausted (about 7 minutes of backoff)
    dead_letter_retries: int = 5  # then the dead-letter record is parked in the database


class EventConsumer:
    def __init__(self, spec: ConsumerSpec, publisher: EventPublisher,
                 parked_dead_letters: AsyncCollection[dict[str, Any]] | None = None,
                 key_ring: KeyRing | None = None):
        self.spec = spec
        self._key_ring = key_ring  # opens the sealed personal fields (crypto-shredding); None: read as they are
        self._publisher = publisher
        self._parked_dead_letters = parked_dead_letters

    def register(self, broker: KafkaBroker) -> None:
        subscriber = broker.subscriber(
            *self.spec.topics,
            group_id=self.spec.name,
            batch=True,
            max_records=self.spec.max_records,
            batch_timeout_ms=self.spec.batch_timeout_ms,
            fetch_max_wait_ms=self.spec.fetch_max_wait_ms,
            fetch_min_bytes=self.spec.fetch_min_bytes,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=_keep_raw,
            title=f"{self.spec.name}:consume",
        )
        subscriber(self._on_batch)

    async def _on_batch(self, msg: KafkaMessage) -> None:
        records = msg.raw_message if isinstance(msg.raw_message, tuple) else (msg.raw_message,)
        started = time.perf_counter()
        try:
            if self.spec.batch_handler is not None:
                await self._process_batch(records)
            else:
                for record in records:
                    await self._process(record)
            if self.spec.after_batch is not None:
                await self.spec.after_batch()
        except BaseException:
            await msg.nack()  # rewind: the batch is delivered again, and handlers are idempotent
            raise
        await msg.ack()
        HANDLE_LATENCY.labels(self.spec.name).observe(time.perf_counter() - started)
        _record_lag(self.spec.name, msg.consumer, records)

    async def _decode(self, record: Any) -> Envelope | None:
        """The record's envelope if a handler wants it; undecodable records are dead-lettered."""
        envelope, error = await self._decode_now(record)
        if error is not None:
            await self._dead_letter(record, *error)
            return None
        if envelope is not None and envelope.type not in self.spec.handlers:
            EVENTS_CONSUMED.labels(self.spec.name, envelope.type, "skipped").inc()
            return None
        return envelope

    async def _decode_now(self, record: Any) -> tuple[Envelope | None, tuple[str, str] | None]:
        try:
            return await decode_record(record.headers or [], record.value or b"", self._key_ring), None
        except DecodeError as exc:
            return None, (exc.kind, str(exc))

    async def _process_batch(self, records: Sequence[Any]) -> None:
        """Decode the batch, dead-letter what does not decode, hand the rest to the batch handler.

        Metrics are counted once per batch and event type, not per record (a labelled counter's
        ``labels()`` takes a lock and builds its key on every call).
        """
        decoded: list[tuple[Any, Envelope]] = []
        skipped: Counter[str] = Counter()
        handlers = self.spec.handlers
        for record in records:
            envelope, error = await self._decode_now(record)
            if error is not None:
                await self._dead_letter(record, *error)
            elif envelope is not None:
                if envelope.type in handlers:
                    decoded.append((record, envelope))
                else:
                    skipped[envelope.type] += 1
        for ce_type, count in skipped.items():
            EVENTS_CONSUMED.labels(self.spec.name, ce_type, "skipped").inc(count)
        if not decoded:
            return
        assert self.spec.batch_handler is not None
        try:
            envelopes = [envelope for _, envelope in decoded]
            with batch_span(envelopes, self.spec.name):
                await self.spec.batch_handler(envelopes)
        except Exception as exc:
            _log.warning("batch handler failed; handling the batch event by event", error=repr(exc))
            for record, envelope in decoded:
                await self._dispatch(record, envelope)
            return
        for ce_type, count in Counter(envelope.type for _, envelope in decoded).items():
            EVENTS_CONSUMED.labels(self.spec.name, ce_type, "handled").inc(count)

    async def _process(self, record: Any) -> None:
        envelope = await self._decode(record)
        if envelope is not None:
            await self._dispatch(record, envelope)

    async def _dispatch(self, record: Any, envelope: Envelope) -> None:
        handler = self.spec.handlers[envelope.type]
        contact_id = getattr(envelope.data, "contact_id", None)
        bind_event_context(event_id=envelope.id, correlation_id=envelope.correlation_id,
                           contact_id=contact_id)
        try:
            with event_span(envelope, self.spec.name):
                await self._handle_with_retries(record, envelope, handler)
        finally:
            clear_event_context()

    async def _handle_with_retries(self, record: Any, envelope: Envelope, handler: Handler) -> None:
        """Handle with bounded retries: every way out is handled, dead-lettered or a visible wait.

        A lost version race is retried ``conflict_retries`` times with backoff, then dead-lettered
        (``conflict_retries_exhausted``); another error ``retries`` times (``handler_failed``). Only an
        unreachable database or broker is waited for without a bound, since dead-lettering a valid event
        for an outage would lose it: ``ic_consumer_waiting`` is 1 and every attempt is logged meanwhile.
        """
        attempt = conflicts = 0
        try:
            while True:
                try:
                    await handler(envelope)
                    EVENTS_CONSUMED.labels(self.spec.name, envelope.type, "handled").inc()
                    return
                except Reject as exc:
                    await self._dead_letter(record, "rejected", str(exc), location=error_location(exc))
                    return
                except EventTooLarge as exc:  # its event can never be published: no retry makes it smaller
                    await self._dead_letter(record, "event_too_large", exc.detail, location=error_location(exc))
                    return
                except StoreConflict as exc:
                    conflicts += 1
                    if conflicts > self.spec.conflict_retries:
                        await self._dead_letter(record, "conflict_retries_exhausted", "StoreConflict",
                                                location=error_location(exc))
                        return
                    delay = self._backoff(conflicts - 1)
                except TRANSIENT_ERRORS as exc:
                    CONSUMER_WAITING.labels(self.spec.name).set(1)
                    delay = self._backoff(attempt)
                    _log.warning("infrastructure unavailable, waiting", error=repr(exc), delay_s=delay,
                                 attempt=attempt + 1, state="waiting_for_infrastructure")
                except Exception as exc:
                    if attempt >= self.spec.retries:
                        _log.exception("handler keeps failing, dead-lettering", ce_type=envelope.type)
                        await self._dead_letter(record, "handler_failed", type(exc).__name__,
                                                location=error_location(exc))
                        return
                    delay = self.spec.retry_backoff_s * 2 ** attempt
                attempt += 1
                await asyncio.sleep(delay)
        finally:
            CONSUMER_WAITING.labels(self.spec.name).set(0)

    def _backoff(self, attempt: int) -> float:
        return min(30.0, self.spec.retry_backoff_s * 2 ** min(attempt, 8))

    async def _dead_letter(self, record: Any, reason: str, error: str, *, location: str | None = None) -> None:
        """Write ``<topic>.dlq`` with bounded retries; park the record in the database if it cannot."""
        value, key, headers = dead_letter_record(record, self.spec.name, reason, error, location)
        for attempt in range(self.spec.dead_letter_retries + 1):
            try:
                await self._publisher.publish_raw(f"{record.topic}.dlq", value, key=key, headers=headers)
                break
            except Exception as exc:
                if attempt < self.spec.dead_letter_retries:
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                if self._parked_dead_letters is None:
                    raise
                await park_dead_letter(self._parked_dead_letters, record, consumer=self.spec.name, value=value,
                                       key=key, headers=headers, failure=exc)
        EVENTS_DEAD_LETTERED.labels(self.spec.name, record.topic, reason).inc()
        EVENTS_CONSUMED.labels(self.spec.name, headers.get("ce_type", "unknown"), "dead_lettered").inc()
        _log.warning("message dead-lettered", reason=reason, error_kind=headers["dlq_error_kind"],
                     error_location=headers["dlq_error_location"], topic=record.topic,
                     partition=record.partition, offset=record.offset)


async def _keep_raw(msg: Any, original: Any = None) -> None:
    """The chassis decodes envelopes itself, so that a body that is not JSON reaches the DLQ logic."""
    return None


def _record_lag(consumer_name: str, consumer: Any, records: Sequence[Any]) -> None:
    last: dict[tuple[str, int], int] = {}
    for record in records:
        last[(record.topic, record.partition)] = max(last.get((record.topic, record.partition), -1), record.offset)
    for (topic, partition), offset in last.items():
        try:
            high = consumer.highwater(TopicPartition(topic, partition))
        except Exception:
            continue
        if high is not None:
            CONSUMER_LAG.labels(consumer_name, topic, str(partition)).set(max(0, high - offset - 1))
