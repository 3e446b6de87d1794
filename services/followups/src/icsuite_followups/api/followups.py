"""Follow-ups: create, read, change."""

from __future__ import annotations

from fastapi import APIRouter, Response
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import AnyStaff

from .. import handlers
from ..domain import Actor
from ..schemas import FollowupIn, FollowupOut, FollowupPatch
from . import representations as rep
from .deps import CorrelationId, ServiceDep, Staff

router = APIRouter(prefix="/followups", tags=["followups"], dependencies=[audited()])


@router.post("", status_code=201, response_model=FollowupOut,
             responses={422: {"description": "invalid, or the type is not permitted (names the rule)"}})
async def create_followup(body: FollowupIn, response: Response, svc: ServiceDep, agent: Staff,
                          correlation_id: CorrelationId = None) -> FollowupOut:
    command = rep.new_followup(body, default_language=svc.settings.default_note_language)
    followup = await handlers.create_followup(svc, command, source_data=rep.source_data(body), author=agent.sub,
                                              correlation_id=correlation_id)
    response.headers["Location"] = f"/v1/followups/{followup.followup_id}"
    return rep.followup_out(followup, with_notes=True)


@router.get("/{followup_id}", response_model=FollowupOut)
async def get_followup(followup_id: str, svc: ServiceDep, _: AnyStaff) -> FollowupOut:
    return rep.followup_out(await handlers.get_followup(svc, followup_id), with_notes=True)


@router.patch("/{followup_id}", response_model=FollowupOut,
              responses={403: {"description": "neither the owner nor a supervisor"},
                         409: {"description": "not a valid status transition, or the follow-up is finished"}})
async def patch_followup(followup_id: str, body: FollowupPatch, svc: ServiceDep, agent: Staff) -> FollowupOut:
    changed = await handlers.change_followup(svc, followup_id, body.model_dump(exclude_unset=True),
                                             actor=Actor.of(agent.sub, agent.roles))
    return rep.followup_out(changed, with_notes=True)
