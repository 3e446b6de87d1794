"""Wires the alerts service: settings, Mongo, broker, repositories, handlers, consumers and the gateway."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.runtime import ServiceRuntime

from . import api, projection_store, repository
from .consumers import register_consumers
from .domain.rules import CONSUMED_TOPICS
from .handlers import AlertsService, utc_now
from .projection_store import ProjectionStore
from .repository import AlertRepository, RuleRepository
from .rulecache import RuleCache
from .settings import AlertsSettings
from .stream import StreamHorizon


def build_app(settings: AlertsSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, outbox_collections=["alerts"],
                             indexes=[*repository.INDEXES, *projection_store.INDEXES],
                             consumes=CONSUMED_TOPICS, produces=["ic.alerts.v1"])
    rules = RuleRepository(runtime.db)
    alerts = AlertRepository(runtime.db)
    horizon = StreamHorizon(alerts, poll_interval_s=settings.stream_poll_interval_s,
                            gap_timeout_s=settings.stream_gap_timeout_s)
    service = AlertsService(rules=rules, alerts=alerts, projections=ProjectionStore(runtime.db),
                            cache=RuleCache(rules), kick_outbox=runtime.kick_outbox, alert_written=horizon.poke,
                            backtest_max_events=settings.backtest_max_events,
                            dedupe_prune_grace_s=settings.dedupe_prune_grace_s)

    async def start() -> None:
        if settings.seed_standard_rules:
            await service.seed_standard_rules()
        else:
            await service.cache.refresh(force=True)
        await horizon.start()

    async def prune_event_log() -> None:
        await service.projections.prune_events(utc_now() - timedelta(days=settings.event_log_retention_days))

    runtime.on_startup(start)
    runtime.add_job("rules-refresh", service.cache.refresh, settings.rules_refresh_interval_s)
    runtime.add_job("stream-horizon", horizon.tick, 0)
    runtime.add_job("event-log-retention", prune_event_log, 3600)
    runtime.add_job("dedupe-pruning", service.prune_dedupe_chains, settings.dedupe_prune_interval_s)
    register_consumers(runtime, service)
    return create_app(runtime, title="alerts", description="The alert modeler: rules on events and account facts, "
                      "alerts pushed live to agents.", routers=[api.router],
                      state={"service": service, "horizon": horizon, "settings": settings})
