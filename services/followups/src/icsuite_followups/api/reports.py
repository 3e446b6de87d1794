"""The supervisor's report: each agent's open follow-ups (open or in process) and how many are overdue."""

from __future__ import annotations

from fastapi import APIRouter
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import Supervisor
from icsuite_chassis.pagination import CursorParam, Limit, cursor_text, decode_cursor, encode_cursor
from pydantic import BaseModel, Field

from .. import handlers
from .deps import ServiceDep

router = APIRouter(tags=["reports"], dependencies=[audited()])


class OwnerFollowups(BaseModel):
    agent_id: str = Field(description="The owner.")
    open_followups: int = Field(description="Her follow-ups open or in process.")
    overdue: int = Field(description="Those of them whose due time has passed.")


class OwnerFollowupsPage(BaseModel):
    items: list[OwnerFollowups]
    next_cursor: str | None = None


@router.get("/reports/open-work", response_model=OwnerFollowupsPage,
            summary="Per owner (by id), the open or in-process follow-ups and the overdue among them")
async def open_work(_: Supervisor, svc: ServiceDep, limit: Limit = 50,
                    cursor: CursorParam = None) -> OwnerFollowupsPage:
    position = decode_cursor(cursor, required_keys=("a",))
    owners = await handlers.open_followups_by_owner(svc, limit, cursor_text(position, "a") if position else None)
    next_cursor = encode_cursor({"a": owners[-1].agent_id}) if len(owners) == limit else None
    return OwnerFollowupsPage(items=[OwnerFollowups(agent_id=o.agent_id, open_followups=o.open, overdue=o.overdue)
                                     for o in owners], next_cursor=next_cursor)
