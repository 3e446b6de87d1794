"""Periodic work of every replica: rules reload, the stream horizon, the retention purge (the kept events, the
acknowledged alerts with the copies their stream positions kept, settled absence checks and expired
de-duplication claims, :func:`retention_rules`), and the absence rules' due checks (each raised once whichever
replica finds it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from icsuite_chassis.retention import RetentionRule, retention_job
from icsuite_chassis.runtime import ServiceRuntime

from .domain.absences import CANCELLED, RAISED
from .handlers import AlertsService


def retention_rules(service: AlertsService) -> list[RetentionRule]:
    settings = service.settings

    def kept_before(cutoff: datetime) -> dict[str, Any]:
        return {"time": {"$lt": cutoff}}

    def acknowledged_before(cutoff: datetime) -> dict[str, Any]:
        return {"status": "acknowledged", "acknowledged_at": {"$lt": cutoff}}

    def settled_before(cutoff: datetime) -> dict[str, Any]:
        return {"status": {"$in": [RAISED, CANCELLED]}, "due_at": {"$lt": cutoff}}

    def expired_before(cutoff: datetime) -> dict[str, Any]:
        return {"expires_at": {"$lt": cutoff}}

    return [RetentionRule("alerts_event_log", service.event_log.writer.store, kept_before,
                          settings.event_log_retention_days),
            RetentionRule("acknowledged_alerts", service.alerts, acknowledged_before,
                          settings.acknowledged_alert_retention_days, also=service.stream.forget),
            # an absence rule's check, raised or cancelled, goes with the kept events it was decided on
            RetentionRule("settled_absences", service.absences, settled_before, settings.event_log_retention_days),
            # the TTL index's work (expires_at already includes dedupe_keep_s), for a database that has none
            RetentionRule("expired_dedupe_claims", service.dedupe, expired_before, 0.0)]


def register_jobs(runtime: ServiceRuntime, service: AlertsService) -> None:
    settings = service.settings
    runtime.add_job("rules-refresh", service.cache.refresh, settings.rules_refresh_interval_s)
    runtime.add_job("stream-horizon", service.stream.tick, 0)
    runtime.add_job("retention", retention_job(retention_rules(service), settings, service.clock),
                    settings.retention_interval_s)
    runtime.add_job("absences-due", service.raise_absences_when_due, 0)  # waits for the next due time itself
