"""Kafka subscribers: every event type of the consumed topics goes through one handler, in order.

A batch goes to :meth:`AlertsService.on_events` at once (each projection written once per batch); if it
fails, the consumer hands its events to :meth:`AlertsService.on_event` one by one. Alerts are pushed live, so
this consumer is tuned for latency rather than batch size: a short batch wait (``events_batch_timeout_ms``;
FastStream also sleeps that long after an empty poll) and a short fetch wait (``events_fetch_max_wait_ms``),
both lower than the chassis defaults. The service's other consumers (erasures, account merges: rare events,
no live push) keep the chassis's ``consumer_*`` settings, so that their idle polls (a fetch every
``consumer_fetch_max_wait_ms`` each) do not take the event loop from this one.
"""

from __future__ import annotations

from typing import Any

from icsuite_chassis.account_merge import Movable, MovableKind, register_merge_consumer
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.store import AggregateStore

from .domain.merged_facts import MEMBER_KINDS
from .domain.rules import CONSUMED_TOPICS, consumed_models
from .handlers import AlertsService
from .projections import FactMembers

CONSUMER = "facts-and-rules"


def register_consumers(runtime: ServiceRuntime, service: AlertsService) -> None:
    handlers = {ce_type: service.on_event for ce_type in consumed_models()}
    runtime.add_consumer(CONSUMER, tuple(CONSUMED_TOPICS), handlers, batch_handler=service.on_events,
                         batch_timeout_ms=service.settings.events_batch_timeout_ms,
                         fetch_max_wait_ms=service.settings.events_fetch_max_wait_ms)


def register_merges(runtime: ServiceRuntime, service: AlertsService, merges: AggregateStore[Any]) -> None:
    """Merged accounts: the alerts follow the surviving account, and so do the ids of open callbacks and
    overdue follow-ups in the account facts (the rest of the facts are read with the merge group's)."""
    register_merge_consumer(runtime, merges, merge_movables(service), service.clock)


def merge_movables(service: AlertsService) -> list[MovableKind]:
    return [Movable("alerts", service.alerts),
            *(FactMembers(kind, service.accounts.writer.store) for kind in MEMBER_KINDS)]
