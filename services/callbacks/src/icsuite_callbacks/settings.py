"""Settings of the callbacks service (environment prefix `IC_CALLBACKS_`)."""

from __future__ import annotations

from icsuite_chassis.settings import ServiceSettings
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from .domain.numbers import KNOWN_TYPES


class CallbacksSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_CALLBACKS_", extra="ignore", populate_by_name=True)

    service_name: str = "callbacks"
    port: int = 8003
    identification_wait_s: float = Field(
        default=60.0, ge=0,
        description="how long a request without account waits for identity's caller-identified before it is "
                    "worked unidentified; longer than a consumer-group rebalance (a later answer still links "
                    "the open item to the account)")
    scheduler_interval_s: float = Field(
        default=1.0, gt=0, description="how often the scheduler moves items through time-based transitions")
    max_open_requests_per_number: int = Field(
        default=3, ge=1, description="open requests one callback number may have; one more answers 429")
    max_window_days: int = Field(default=30, ge=1, description="how far ahead a preferred window may end")
    default_window_hours: float = Field(
        default=72.0, gt=0, description="how long an item without a preferred window stays workable")
    refused_number_types: list[str] = Field(
        default=["premium_rate", "shared_cost", "satellite"],
        description="phone number types refused as callback numbers (phonenumbers' types in snake case, and "
                    "'satellite')")
    rate_limit_per_caller: int = Field(default=20, ge=1, description="requests one caller (token) may make per window")
    rate_caller_window_s: int = Field(default=60, ge=1, description="the window of the per-caller limit")
    rate_limit_per_number: int = Field(default=6, ge=1, description="requests for one callback number per window")
    rate_number_window_s: int = Field(default=3600, ge=1, description="the window of the per-number limit")
    closed_callback_retention_days: float = Field(
        default=365.0, gt=0, description="a completed, failed, expired or cancelled callback is purged this long "
                                         "after its last change (open items are never purged)")
    seed_reason_profiles: bool = Field(default=True, description="store the default reason profiles at start")
    bench_claim_baseline: bool = Field(
        default=False,
        description="benchmarks only, never in production: mount POST /bench/claim-baseline, the minimal claim "
                    "(one find_one_and_update on the inbox index, no store, no event) that `make bench` compares "
                    "claim-next with; not part of the public contract")

    @field_validator("refused_number_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - KNOWN_TYPES)
        if unknown:
            raise ValueError(f"unknown phone number types {unknown}; known: {sorted(KNOWN_TYPES)}")
        return value
