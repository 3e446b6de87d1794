"""Kafka subscribers: every event type of the consumed topics goes through one handler, in order."""

from __future__ import annotations

from icsuite_chassis.runtime import ServiceRuntime

from .domain.rules import CONSUMED_TOPICS, consumed_models
from .handlers import AlertsService


def register_consumers(runtime: ServiceRuntime, service: AlertsService) -> None:
    handlers = {ce_type: service.on_event for ce_type in consumed_models()}
    runtime.add_consumer("facts-and-rules", CONSUMED_TOPICS, handlers)
