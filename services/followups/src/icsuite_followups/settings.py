"""Settings of the followups service (environment prefix `IC_FOLLOWUPS_`)."""

from __future__ import annotations

from icsuite_chassis.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class FollowupsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_FOLLOWUPS_", extra="ignore", populate_by_name=True)

    service_name: str = "followups"
    port: int = 8004
