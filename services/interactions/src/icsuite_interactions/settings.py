"""Settings of the interactions service (environment prefix `IC_INTERACTIONS_`)."""

from __future__ import annotations

from icsuite_chassis.settings import ServiceSettings
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

DEFAULT_MEDIA_TYPES = (
    "application/pdf", "image/png", "image/jpeg", "image/tiff", "image/gif", "text/plain", "text/csv",
    "message/rfc822", "audio/mpeg", "audio/wav",
)


class InteractionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_INTERACTIONS_", extra="ignore", populate_by_name=True)

    service_name: str = "interactions"
    port: int = 8002
    max_request_bytes: int = Field(default=6 * 1024 * 1024, ge=1024,
                                   description="Largest request body; above the attachment limit.")
    attachment_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1,
                                      description="Largest attachment content accepted (413 above).")
    attachment_media_types: list[str] = Field(default=list(DEFAULT_MEDIA_TYPES),
                                              description="Media types accepted for attachments (415 otherwise).")
    self_service_grace_s: float = Field(default=3.0, ge=0,
                                        description="How long after `ended` a contact without an agent "
                                                    "waits for late segments before it closes as self-service.")
    self_service_sweep_interval_s: float = Field(default=1.0, gt=0)
    attachment_orphan_grace_s: float = Field(
        default=3600.0, gt=0,
        description="An attachment upload that no record references this long after it began is deleted from "
                    "GridFS; must exceed the longest upload plus its record write.")
    attachment_orphan_sweep_interval_s: float = Field(default=300.0, gt=0,
                                                      description="How often the orphaned-upload cleanup runs.")
    timeline_collection: str = Field(default="timeline", min_length=1,
                                     description="The collection the timeline projection is written to.")
    timeline_fetch_min_bytes: int = Field(
        default=64 * 1024, ge=1,
        description="The timeline projection's fetches wait (at most the consumer fetch wait, 100 ms) until this "
                    "many bytes are there: under load 4-5 times fewer, larger batches (measured in the ingest "
                    "benchmark); 1 for no wait.")
    closed_interaction_retention_days: float = Field(
        default=3650.0, gt=0, description="A closed interaction record is purged this long after it closed, with "
                                          "its timeline entry and attachments (open records are never purged).")
    contacts_batch: bool = Field(default=True, description="Apply contact events batch-wise (one bulk write).")

    @model_validator(mode="after")
    def _room_for_attachments(self) -> "InteractionsSettings":
        if self.max_request_bytes < self.attachment_max_bytes + 64 * 1024:
            raise ValueError("max_request_bytes must exceed attachment_max_bytes by at least 64 KiB "
                             "(room for the multipart envelope)")
        self.attachment_media_types = [t.strip().lower() for t in self.attachment_media_types if t.strip()]
        return self
