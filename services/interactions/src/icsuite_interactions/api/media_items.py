"""A record's media items: add one (a fax sent, an e-mail received), list them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from icsuite_chassis.audit import audited
from icsuite_contracts.base import Id

from ..schemas import MediaItemIn
from .deps import ExistingRecord, Service, StaffActor
from .views import media_item_view, record_view

router = APIRouter(prefix="/v1/interactions/{interaction_id}/media-items", tags=["media items"],
                   dependencies=[audited()])


@router.post("", status_code=201, summary="Add a media item {media, direction, started_at?, ended_at?}")
async def add_media_item(interaction_id: Id, body: MediaItemIn, service: Service, actor: StaffActor,
                         response: Response) -> dict[str, Any]:
    item = await service.commands.add_media_item(interaction_id, actor, media=body.media, direction=body.direction,
                                                 started_at=body.started_at, ended_at=body.ended_at)
    response.headers["Location"] = f"/v1/interactions/{interaction_id}/media-items/{item.media_item_id}"
    return media_item_view(item)


@router.get("", summary="The record's media items, in the order they began")
async def list_media_items(record: ExistingRecord) -> dict[str, Any]:
    return {"items": record_view(record)["media_items"], "next_cursor": None}
