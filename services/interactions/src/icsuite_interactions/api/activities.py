"""A record's activities: record one, list them, read one."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Response
from icsuite_chassis.audit import audited
from icsuite_contracts.base import Id

from ..domain.errors import PartNotFound
from ..schemas import ActivityIn
from .deps import ExistingRecord, Service, StaffActor

router = APIRouter(prefix="/v1/interactions/{interaction_id}/activities", tags=["activities"],
                   dependencies=[audited()])


@router.post("", status_code=201, summary="Record a business activity")
async def add_activity(interaction_id: Id, body: ActivityIn, service: Service, actor: StaffActor,
                       response: Response) -> dict[str, Any]:
    activity = await service.commands.add_activity(interaction_id, actor, kind=body.kind, details=body.details,
                                                   at=body.at, media_item_id=body.media_item_id)
    response.headers["Location"] = f"/v1/interactions/{interaction_id}/activities/{activity.activity_id}"
    return asdict(activity)


@router.get("", summary="The record's activities, in the order recorded")
async def list_activities(record: ExistingRecord) -> dict[str, Any]:
    return {"items": [asdict(a) for a in record.activities], "next_cursor": None}


@router.get("/{activity_id}", summary="One activity")
async def get_activity(record: ExistingRecord, activity_id: Id) -> dict[str, Any]:
    for activity in record.activities:
        if activity.activity_id == activity_id:
            return asdict(activity)
    raise PartNotFound("activity", activity_id)
