"""Settings of the callbacks service (environment prefix `IC_CALLBACKS_`)."""

from __future__ import annotations

from icsuite_chassis.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class CallbacksSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_CALLBACKS_", extra="ignore", populate_by_name=True)

    service_name: str = "callbacks"
    port: int = 8003
    identification_wait_s: float = Field(
        default=5.0, ge=0, description="how long a request without account waits for identity's caller-identified")
    scheduler_interval_s: float = Field(
        default=1.0, gt=0, description="how often the scheduler moves items through time-based transitions")
    max_open_requests_per_number: int = Field(
        default=3, ge=1, description="open requests one callback number may have; one more answers 429")
    max_window_days: int = Field(default=30, ge=1, description="how far ahead a preferred window may end")
    default_window_hours: float = Field(
        default=72.0, gt=0, description="how long an item without a preferred window stays workable")
    seed_reason_profiles: bool = Field(default=True, description="store the default reason profiles at start")
