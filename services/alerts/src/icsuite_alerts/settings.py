"""Settings of the alerts service (environment prefix `IC_ALERTS_`)."""

from __future__ import annotations

from icsuite_chassis.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class AlertsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_ALERTS_", extra="ignore", populate_by_name=True)

    service_name: str = "alerts"
    port: int = 8005
