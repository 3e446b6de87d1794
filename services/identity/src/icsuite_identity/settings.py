"""Settings of the identity service (environment prefix `IC_IDENTITY_`)."""

from __future__ import annotations

import phonenumbers
from icsuite_chassis.settings import ServiceSettings
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_IDENTITY_", extra="ignore", populate_by_name=True)

    service_name: str = "identity"
    port: int = 8001
    default_region: str = Field(
        default="DE", description="ISO 3166-1 region for phone numbers written without a country code.")
    outbox_full_sweep_interval_s: float | None = Field(
        default=300.0, gt=0, description="the outbox sweep scans the accounts collection (a million documents): "
                                         "it ran every 10 s and stalled every read of the collection while it did "
                                         "(bench/README.md, 3.); failed publishes are still retried every "
                                         "outbox_sweep_interval_s")
    contact_context_retention_days: float = Field(
        default=365.0, gt=0, description="a contact's context (identification result, confirmation) is purged this "
                                         "long after its last change")

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region phonenumbers knows (e.g. DE, AT, US)")
        return region
