"""Settings of the interactions service (environment prefix `IC_INTERACTIONS_`)."""

from __future__ import annotations

from icsuite_chassis.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class InteractionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_INTERACTIONS_", extra="ignore", populate_by_name=True)

    service_name: str = "interactions"
    port: int = 8002
