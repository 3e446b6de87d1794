"""Settings of the followups service (environment prefix `IC_FOLLOWUPS_`)."""

from __future__ import annotations

from icsuite_chassis.settings import ServiceSettings
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from .domain import InvalidLanguage, normalize_language


class FollowupsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_FOLLOWUPS_", extra="ignore", populate_by_name=True)

    service_name: str = "followups"
    port: int = 8004
    overdue_check_interval_s: float = Field(default=30.0, gt=0, description="how often the overdue job runs")
    overdue_batch_size: int = Field(default=500, ge=1, description="follow-ups the overdue job handles per run")
    due_check_interval_s: float = Field(default=15.0, gt=0, description="how often the due job runs")
    due_batch_size: int = Field(default=500, ge=1, description="follow-ups the due job handles per run")
    finished_followup_retention_days: float = Field(
        default=1095.0, gt=0, description="a completed or cancelled follow-up is purged this long after its last "
                                          "change (open and in-process ones are never purged)")
    default_note_language: str = Field(default="en", min_length=2, max_length=35,
                                       description="language of scratch-pad text imported without one")

    @field_validator("default_note_language")
    @classmethod
    def _bcp47(cls, value: str) -> str:
        try:
            return normalize_language(value)
        except InvalidLanguage as exc:
            raise ValueError(str(exc)) from None
