"""Settings of the identity service (environment prefix `IC_IDENTITY_`)."""

from __future__ import annotations

from icsuite_chassis.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_IDENTITY_", extra="ignore", populate_by_name=True)

    service_name: str = "identity"
    port: int = 8001
