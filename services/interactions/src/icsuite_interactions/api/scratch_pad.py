"""A record's scratch pad: written while the record is open, kept read-only with the closed record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from icsuite_chassis.audit import audited
from icsuite_contracts.base import Id

from ..schemas import ScratchPadIn
from .deps import ExistingRecord, Service, StaffActor
from .views import scratch_pad_view

router = APIRouter(prefix="/v1/interactions/{interaction_id}/scratch-pad", tags=["scratch pad"],
                   dependencies=[audited()])


@router.get("", summary="The scratch pad {text, updated_at, updated_by}")
async def get_scratch_pad(record: ExistingRecord) -> dict[str, Any]:
    return scratch_pad_view(record)


@router.put("", summary="Write the scratch pad {text} (only while the record is open)")
async def put_scratch_pad(interaction_id: Id, body: ScratchPadIn, service: Service, actor: StaffActor) -> dict[str, Any]:
    pad = await service.commands.write_scratch_pad(interaction_id, actor, body.text)
    return {"text": pad.text, "updated_at": pad.updated_at, "updated_by": pad.updated_by}
