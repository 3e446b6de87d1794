"""What interactions holds about an account, for the data subject's copy (administrators): the records with
their notes, activities, media items, scratch pad and attachment metadata, and the timeline entries. The
attachments' bytes are read through ``GET /v1/interactions/{id}/attachments/{attachment_id}/content``."""

from __future__ import annotations

from fastapi import APIRouter
from icsuite_chassis.subject_data import SubjectSection, by_field, subject_data_router


def router(timeline_collection: str = "timeline") -> APIRouter:
    return subject_data_router("interactions", (
        SubjectSection("interactions", "interactions", by_field("account_id")),
        SubjectSection("timeline", timeline_collection, by_field("account_id")),
    ))
