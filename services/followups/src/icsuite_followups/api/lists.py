"""Lists: an account's follow-ups (``planned`` among them) and a source's follow-ups with its display area."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.pagination import CursorParam, Limit
from icsuite_contracts.followups_v1 import SourceType

from ..domain import display_area
from ..repository import account_filter
from ..schemas import FollowupPage, SourceFollowupPage
from . import representations as rep
from .deps import ServiceDep

router = APIRouter(tags=["lists"], dependencies=[audited()])
AccountListStatus = Literal["planned", "open", "in_process", "completed", "cancelled"]


@router.get("/accounts/{account_id}/followups", response_model=FollowupPage)
async def account_followups(account_id: str, svc: ServiceDep, _: AnyStaff, limit: Limit = 50,
                            cursor: CursorParam = None, status: AccountListStatus | None = None) -> FollowupPage:
    items, next_cursor = await svc.reads.page(account_filter(account_id, status), cursor=cursor, limit=limit)
    return FollowupPage(items=[rep.followup_out(f, with_notes=False) for f in items], next_cursor=next_cursor)


@router.get("/sources/{source_type}/{source_id}/followups", response_model=SourceFollowupPage)
async def source_followups(source_type: SourceType, source_id: str, svc: ServiceDep, _: AnyStaff,
                           limit: Limit = 50, cursor: CursorParam = None) -> SourceFollowupPage:
    items, next_cursor = await svc.reads.page({"source.type": source_type, "source.id": source_id},
                                              cursor=cursor, limit=limit)
    return SourceFollowupPage(items=[rep.followup_out(f, with_notes=False) for f in items],
                              next_cursor=next_cursor, display_area=display_area(source_type))  # type: ignore[arg-type]
