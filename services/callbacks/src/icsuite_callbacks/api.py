"""HTTP gateway of the callbacks service: thin routes that parse, call a handler and answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request, Response
from icsuite_chassis.auth import AnyStaff, Principal, require_roles
from icsuite_chassis.pagination import CursorParam, Limit

from . import handlers
from .api_support import actor_of, next_cursor, position_of
from .handlers import Deps
from .schemas import (
    CallbackAccepted,
    CallbackPage,
    CallbackRequestBody,
    CallbackView,
    CancelBody,
    CompleteBody,
    FailBody,
    StartBody,
)

router = APIRouter(prefix="/v1", tags=["callbacks"])

CallbackId = Annotated[str, Path(min_length=1, max_length=128, description="The callback (= its request id).")]
AnyRole = Annotated[Principal, Depends(require_roles("agent", "supervisor", "admin", "channel"))]
Worker = Annotated[Principal, Depends(require_roles("agent", "supervisor", "admin"))]


async def _deps(request: Request) -> Deps:
    """Async although it awaits nothing: FastAPI hands a sync dependency to its thread pool on every request."""
    return request.app.state.deps  # type: ignore[no-any-return]


DepsDep = Annotated[Deps, Depends(_deps)]


@router.post("/callbacks", status_code=202, response_model=CallbackAccepted,
             summary="A callback request from the web channel (or an agent for a customer)")
async def request_callback(body: CallbackRequestBody, principal: AnyRole, deps: DepsDep,
                           response: Response) -> CallbackAccepted:
    request_id = f"cbr-{deps.new_id()}"
    item = await handlers.submit_request(deps, body.to_request(request_id))
    response.headers["Location"] = f"/v1/callbacks/{item.callback_id}"
    return CallbackAccepted(request_id=item.request_id, callback_id=item.callback_id, status=item.status)


@router.get("/callbacks/{callback_id}", response_model=CallbackView, summary="One callback work item")
async def get_callback(callback_id: CallbackId, principal: AnyRole, deps: DepsDep) -> CallbackView:
    return CallbackView.of(await handlers.get_callback(deps, callback_id))


@router.post("/callbacks/claim-next", response_model=CallbackView,
             responses={204: {"description": "the general inbox has no workable item"}},
             summary="Claim the most urgent workable item of the general inbox, atomically")
async def claim_next(principal: Worker, deps: DepsDep) -> CallbackView | Response:
    item = await handlers.claim_next(deps, actor_of(principal))
    return CallbackView.of(item) if item is not None else Response(status_code=204)


@router.post("/callbacks/{callback_id}/claim", response_model=CallbackView, summary="Claim this item")
async def claim(callback_id: CallbackId, principal: Worker, deps: DepsDep) -> CallbackView:
    return CallbackView.of(await handlers.claim(deps, callback_id, actor_of(principal)))


@router.post("/callbacks/{callback_id}/start", response_model=CallbackView,
             summary="Begin an attempt: emits ic.callback.started.v1 with the number to dial")
async def start(callback_id: CallbackId, principal: Worker, deps: DepsDep,
                body: Annotated[StartBody | None, Body()] = None) -> CallbackView:
    dial = (body or StartBody()).dial
    item = await handlers.start(deps, callback_id, actor_of(principal), dial)
    return CallbackView.started(item, dial)


@router.post("/callbacks/{callback_id}/fail", response_model=CallbackView,
             summary="A failed attempt: retain it in your inbox or release it to the general inbox")
async def fail(callback_id: CallbackId, body: FailBody, principal: Worker, deps: DepsDep) -> CallbackView:
    item = await handlers.fail(deps, callback_id, actor_of(principal), body.retain, body.reason)
    return CallbackView.of(item)


@router.post("/callbacks/{callback_id}/release", response_model=CallbackView,
             summary="Give a claimed item back to the general inbox")
async def release(callback_id: CallbackId, principal: Worker, deps: DepsDep) -> CallbackView:
    return CallbackView.of(await handlers.release(deps, callback_id, actor_of(principal)))


@router.post("/callbacks/{callback_id}/complete", response_model=CallbackView, summary="Complete the callback")
async def complete(callback_id: CallbackId, body: CompleteBody, principal: Worker, deps: DepsDep) -> CallbackView:
    return CallbackView.of(await handlers.complete(deps, callback_id, actor_of(principal), body.outcome))


@router.post("/callbacks/{callback_id}/cancel", response_model=CallbackView, summary="Cancel the callback")
async def cancel(callback_id: CallbackId, principal: AnyRole, deps: DepsDep,
                 body: Annotated[CancelBody | None, Body()] = None) -> CallbackView:
    reason = body.reason if body else None
    return CallbackView.of(await handlers.cancel(deps, callback_id, actor_of(principal), reason))


@router.get("/inbox", response_model=CallbackPage,
            summary="The general inbox: workable items by priority, then due time")
async def general_inbox(principal: AnyStaff, deps: DepsDep, limit: Limit = 50,
                        cursor: CursorParam = None) -> CallbackPage:
    items = await handlers.general_inbox(deps, limit, position_of(cursor))
    return CallbackPage(items=[CallbackView.of(i) for i in items], next_cursor=next_cursor(items, limit))


@router.get("/agents/{agent_id}/inbox", response_model=CallbackPage,
            summary="An agent's inbox (claimed, retained and in progress) by priority, then due time")
async def agent_inbox(agent_id: Annotated[str, Path(min_length=1, max_length=128)], principal: AnyStaff,
                      deps: DepsDep, limit: Limit = 50, cursor: CursorParam = None) -> CallbackPage:
    items = await handlers.agent_inbox(deps, agent_id, actor_of(principal), limit, position_of(cursor))
    return CallbackPage(items=[CallbackView.of(i) for i in items], next_cursor=next_cursor(items, limit))
