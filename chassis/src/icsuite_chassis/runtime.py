"""One service's infrastructure at run time: Mongo, the broker, its consumers, the outbox relay, timers.

``bootstrap.py`` of each service builds a :class:`ServiceRuntime` and hands it to the app factory;
nothing connects before :meth:`ServiceRuntime.start` runs in the app's lifespan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from icsuite_contracts.cloudevents import Envelope

from .consumer import ConsumerSpec, EventConsumer
from .data_keys import DATA_KEYS, KeyRing, vault_key_ring
from .dead_letters import PARKED_DEAD_LETTERS
from .kafka import EventPublisher, create_broker, kafka_security
from .logging import get_logger
from .mongo import IndexSpec, create_mongo_client, ensure_indexes, ping
from .outbox import OutboxRelay
from .settings import ServiceSettings
from .store import store_indexes

_log = get_logger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """A timer-driven job (a scheduler); it must be safe to run in every replica at once."""

    name: str
    run: Callable[[], Awaitable[Any]]
    interval_s: float


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, *, outbox_collections: Sequence[str] = (),
                 indexes: Iterable[IndexSpec] = (), consumes: Sequence[str] = (),
                 produces: Sequence[str] = ()):
        self.settings = settings
        self.mongo = create_mongo_client(settings.mongodb_uri, app_name=settings.service_name)
        self.db = self.mongo[settings.mongodb_database]
        self.broker: KafkaBroker = create_broker(
            settings.kafka_bootstrap_servers, client_id=f"icsuite-{settings.service_name}",
            security=kafka_security(settings.kafka_security_protocol, settings.kafka_sasl_mechanism,
                                    settings.kafka_sasl_username, settings.kafka_sasl_password))
        self.key_ring: KeyRing | None = (  # crypto-shredding of personal fields in events (issue 21)
            vault_key_ring(self.mongo[settings.key_vault_database], settings.data_key_master)
            if settings.crypto_shredding else None)
        self.publisher = EventPublisher(self.broker, self.key_ring)
        self.relay = OutboxRelay(self.db, outbox_collections, self.publisher,
                                 sweep_interval_s=settings.outbox_sweep_interval_s,
                                 full_sweep_interval_s=settings.outbox_full_sweep_interval_s,
                                 max_attempts=settings.outbox_max_attempts,
                                 transient_grace_s=settings.outbox_transient_grace_s)
        self.outbox_collections = tuple(outbox_collections)
        self.indexes = list(indexes)
        self.consumes = tuple(consumes)
        self.produces = tuple(produces)
        self.consumers: list[EventConsumer] = []
        self.jobs: list[PeriodicJob] = []
        self.startup_hooks: list[Callable[[], Awaitable[Any]]] = []
        self._tasks: list[asyncio.Task[None]] = []

    def add_consumer(self, name: str, topics: Sequence[str], handlers: dict[str, Any], **options: Any) -> None:
        s = self.settings
        spec = ConsumerSpec(name=f"{s.consumer_group_prefix}{s.service_name}.{name}", topics=tuple(topics), handlers=handlers,
                            retries=options.pop("retries", s.consumer_retries),
                            retry_backoff_s=options.pop("retry_backoff_s", s.consumer_retry_backoff_s),
                            max_records=options.pop("max_records", s.consumer_max_records),
                            batch_timeout_ms=options.pop("batch_timeout_ms", s.consumer_batch_timeout_ms),
                            fetch_max_wait_ms=options.pop("fetch_max_wait_ms", s.consumer_fetch_max_wait_ms),
                            conflict_retries=options.pop("conflict_retries", s.consumer_conflict_retries),
                            dead_letter_retries=options.pop("dead_letter_retries", s.consumer_dead_letter_retries),
                            **options)
        consumer = EventConsumer(spec, self.publisher, self.db[PARKED_DEAD_LETTERS], self.key_ring)
        consumer.register(self.broker)
        self.consumers.append(consumer)

    def add_job(self, name: str, run: Callable[[], Awaitable[Any]], interval_s: float) -> None:
        self.jobs.append(PeriodicJob(name, run, interval_s))

    def on_startup(self, hook: Callable[[], Awaitable[Any]]) -> None:
        self.startup_hooks.append(hook)

    def kick_outbox(self, collection: str, doc_id: Any) -> None:
        self.relay.kick(collection, doc_id)

    async def publish_now(self, envelope: Envelope) -> None:
        """Publish without an outbox: only for events that carry no state change of this service."""
        await self.publisher.publish(envelope)

    async def start(self) -> None:
        await ensure_indexes(self.db, self.indexes)
        if self.key_ring is not None:
            await ensure_indexes(self.mongo[self.settings.key_vault_database], store_indexes(DATA_KEYS))
        for hook in self.startup_hooks:
            await hook()
        await self.broker.start()
        await self.relay.start()
        self._tasks = [asyncio.create_task(self._run_job(job), name=job.name) for job in self.jobs]
        _log.info("service started", consumers=[c.spec.name for c in self.consumers])

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.relay.stop()
        await self.broker.stop()
        await self.mongo.close()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(ping(self.mongo), timeout=3)
            checks["mongodb"] = "ok"
        except Exception as exc:
            checks["mongodb"] = f"unreachable: {type(exc).__name__}"
        try:
            checks["kafka"] = "ok" if await self.broker.ping(timeout=3) else "unreachable"
        except Exception as exc:
            checks["kafka"] = f"unreachable: {type(exc).__name__}"
        return checks

    async def _run_job(self, job: PeriodicJob) -> None:
        while True:
            try:
                await job.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("periodic job failed", job=job.name, error=repr(exc))
            await asyncio.sleep(job.interval_s)
