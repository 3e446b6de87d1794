"""Kafka subscribers: every event type of the consumed topics goes through one handler, in order.

Alerts are pushed live, so the consumer is tuned for latency rather than batch size: a short batch wait
(``consumer_batch_timeout_ms``; FastStream also sleeps that long after an empty poll) and a short fetch
wait (``consumer_fetch_max_wait_ms``). aiokafka leaves a partition whose records are still buffered out
of the fetch in flight, so with its default of 500 ms a record on such a partition could wait for the
other partitions' long poll to time out. The chassis does not pass fetch settings to FastStream, so the
subscriber is registered here through a broker wrapper that adds them (same consumer, same group name).
"""

from __future__ import annotations

from typing import Any

from icsuite_chassis.consumer import ConsumerSpec, EventConsumer
from icsuite_chassis.runtime import ServiceRuntime

from .domain.rules import CONSUMED_TOPICS, consumed_models
from .handlers import AlertsService
from .settings import AlertsSettings

CONSUMER = "facts-and-rules"


class _SubscriberOptions:
    """The broker, with extra keyword arguments for every ``subscriber(...)`` registered through it."""

    def __init__(self, broker: Any, **options: Any):
        self._broker = broker
        self._options = options

    def subscriber(self, *topics: str, **kwargs: Any) -> Any:
        return self._broker.subscriber(*topics, **{**kwargs, **self._options})


def register_consumers(runtime: ServiceRuntime, service: AlertsService) -> None:
    settings = runtime.settings
    assert isinstance(settings, AlertsSettings)
    handlers = {ce_type: service.on_event for ce_type in consumed_models()}
    spec = ConsumerSpec(name=f"{settings.consumer_group_prefix}{settings.service_name}.{CONSUMER}",
                        topics=tuple(CONSUMED_TOPICS), handlers=handlers, retries=settings.consumer_retries,
                        retry_backoff_s=settings.consumer_retry_backoff_s, max_records=settings.consumer_max_records,
                        batch_timeout_ms=settings.consumer_batch_timeout_ms)
    consumer = EventConsumer(spec, runtime.publisher)
    consumer.register(_SubscriberOptions(runtime.broker,  # type: ignore[arg-type]
                                         fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms))
    runtime.consumers.append(consumer)
