"""Periodic work of every replica: rules reload, the stream horizon, the kept events' retention, and the
absence rules' due checks (each raised once whichever replica finds it)."""

from __future__ import annotations

from datetime import timedelta

from icsuite_chassis.runtime import ServiceRuntime

from .handlers import AlertsService


def register_jobs(runtime: ServiceRuntime, service: AlertsService) -> None:
    settings = service.settings

    async def prune_event_log() -> None:
        await service.event_log.prune(service.clock() - timedelta(days=settings.event_log_retention_days))

    runtime.add_job("rules-refresh", service.cache.refresh, settings.rules_refresh_interval_s)
    runtime.add_job("stream-horizon", service.stream.tick, 0)
    runtime.add_job("event-log-retention", prune_event_log, 3600)
    runtime.add_job("absences-due", service.raise_due_absences, settings.absence_check_interval_s)
