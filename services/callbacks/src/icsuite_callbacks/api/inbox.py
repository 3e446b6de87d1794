"""The inboxes: the general inbox, an agent's own, and claim-next."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.pagination import CursorParam, Limit

from .. import handlers
from ..schemas import CallbackPage, CallbackView
from .deps import ServiceDep, Worker, actor_of, next_cursor, position_of

router = APIRouter(prefix="/v1", tags=["inboxes"], dependencies=[audited()])


@router.post("/callbacks/claim-next", response_model=CallbackView,
             responses={204: {"description": "the general inbox has no workable item"}},
             summary="Claim the most urgent workable item of the general inbox, atomically")
async def claim_next(principal: Worker, svc: ServiceDep) -> CallbackView | Response:
    item = await handlers.claim_next(svc, actor_of(principal))
    return CallbackView.of(item) if item is not None else Response(status_code=204)


@router.get("/inbox", response_model=CallbackPage,
            summary="The general inbox: workable items by priority, then due time (an agent sees those she can "
                    "serve: skill and language)")
async def general_inbox(principal: AnyStaff, svc: ServiceDep, limit: Limit = 50,
                        cursor: CursorParam = None) -> CallbackPage:
    items = await handlers.general_inbox(svc, actor_of(principal), limit, position_of(cursor))
    shown = await handlers.with_surviving_candidates(svc, items)
    return CallbackPage(items=[CallbackView.of(i) for i in shown], next_cursor=next_cursor(items, limit))


@router.get("/agents/{agent_id}/inbox", response_model=CallbackPage,
            summary="An agent's inbox (claimed, retained and in progress) by priority, then due time")
async def agent_inbox(agent_id: Annotated[str, Path(min_length=1, max_length=128)], principal: AnyStaff,
                      svc: ServiceDep, limit: Limit = 50, cursor: CursorParam = None) -> CallbackPage:
    items = await handlers.agent_inbox(svc, agent_id, actor_of(principal), limit, position_of(cursor))
    shown = await handlers.with_surviving_candidates(svc, items)
    return CallbackPage(items=[CallbackView.of(i) for i in shown], next_cursor=next_cursor(items, limit))
