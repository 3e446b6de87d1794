"""The HTTP gateway, one module per resource (see the service README for the routes)."""

from __future__ import annotations

from fastapi import APIRouter

from . import activities, attachments, media_items, notes, records, reports, scratch_pad, timeline


def routers() -> list[APIRouter]:
    return [timeline.router, records.router, notes.router, activities.router, attachments.router,
            media_items.router, scratch_pad.router, reports.router]
