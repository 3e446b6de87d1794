"""Settings of the callbacks service (environment prefix `IC_CALLBACKS_`)."""

from __future__ import annotations

from icsuite_chassis.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class CallbacksSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_CALLBACKS_", extra="ignore", populate_by_name=True)

    service_name: str = "callbacks"
    port: int = 8003
