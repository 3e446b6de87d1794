"""Settings of the alerts service (environment prefix `IC_ALERTS_`)."""

from __future__ import annotations

from icsuite_chassis.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class AlertsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_ALERTS_", extra="ignore", populate_by_name=True)

    service_name: str = "alerts"
    port: int = 8005
    seed_standard_rules: bool = True
    rules_refresh_interval_s: float = Field(default=1.0, gt=0)
    stream_poll_interval_s: float = Field(default=0.15, gt=0)
    # the consumer of the rules' events: latency over batch size (see consumers.py); the service's other
    # consumers (erasures, account merges) keep the chassis's consumer_* settings (50 ms and 100 ms)
    events_batch_timeout_ms: int = Field(default=10, ge=1)
    events_fetch_max_wait_ms: int = Field(default=20, ge=1)
    stream_keepalive_s: float = Field(default=15.0, gt=0)
    stream_open_window_s: float = Field(default=900.0, ge=0, description=(
        "a first connection (no Last-Event-ID) also gets the open alerts raised this many seconds back"))
    event_log_retention_days: float = Field(default=90.0, gt=0, description=(
        "events kept for backtests and facts are purged this long after their time"))
    acknowledged_alert_retention_days: float = Field(default=365.0, gt=0, description=(
        "an acknowledged alert is purged this long after its acknowledgement (open alerts are never purged)"))
    dedupe_keep_s: float = Field(default=3600.0, ge=0, description=(
        "a de-duplication document is kept this long after its window ends, for trigger events that arrive "
        "late (then the TTL index removes it)"))
    absence_check_interval_s: float = Field(default=1.0, gt=0, description=(
        "the longest each replica's due job sleeps before it looks for absences that came due again: it wakes at "
        "the earliest pending due time, and at once for an absence this replica stores"))
    backtest_max_events: int = Field(default=200_000, ge=1)
    backtest_max_period_days: int = Field(default=366, ge=1)
    backtest_time_limit_s: float = Field(default=10.0, gt=0, description=(
        "a backtest stops after this long (loading and replaying) and answers what it found so far"))
