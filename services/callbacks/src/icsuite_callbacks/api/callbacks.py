"""`/v1/callbacks`: requests and the commands on one work item."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from icsuite_chassis.audit import audited
from icsuite_chassis.auth import Principal

from .. import handlers
from ..domain import WorkItem
from ..domain import lifecycle as lc
from ..schemas import CallbackAccepted, CallbackRequestBody, CallbackView, CancelBody, CompleteBody, FailBody, StartBody
from .deps import AnyRole, CallbackId, ServiceDep, Worker, actor_of, is_channel_only

router = APIRouter(prefix="/v1", tags=["callbacks"], dependencies=[audited()])


@router.post("/callbacks", status_code=202, response_model=CallbackAccepted,
             summary="A callback request from the web channel (or an agent for a customer)")
async def request_callback(body: CallbackRequestBody, principal: AnyRole, svc: ServiceDep,
                           response: Response) -> CallbackAccepted:
    item = await handlers.submit_request(svc, body.to_request(f"cbr-{svc.new_id()}"), caller=principal.sub)
    response.headers["Location"] = f"/v1/callbacks/{item.callback_id}"
    return CallbackAccepted.of(item)


def _view(item: WorkItem, principal: Principal) -> CallbackView | CallbackAccepted:
    """A channel (acting for the customer) sees only the request's ids and status; staff see the work item."""
    return CallbackAccepted.of(item) if is_channel_only(principal) else CallbackView.of(item)


@router.get("/callbacks/{callback_id}", response_model=CallbackView | CallbackAccepted,
            summary="One callback work item (a channel sees request_id, callback_id and status only)")
async def get_callback(callback_id: CallbackId, principal: AnyRole, svc: ServiceDep) -> CallbackView | CallbackAccepted:
    [item] = await handlers.with_surviving_candidates(svc, [await handlers.get_callback(svc, callback_id)])
    return _view(item, principal)


@router.post("/callbacks/{callback_id}/claim", response_model=CallbackView, summary="Claim this item")
async def claim(callback_id: CallbackId, principal: Worker, svc: ServiceDep) -> CallbackView:
    return CallbackView.of(await handlers.claim(svc, callback_id, lc.Claim(actor_of(principal))))


@router.post("/callbacks/{callback_id}/start", response_model=CallbackView,
             summary="Begin an attempt: emits ic.callback.started.v1 with the number to dial")
async def start(callback_id: CallbackId, principal: Worker, svc: ServiceDep,
                body: Annotated[StartBody | None, Body()] = None) -> CallbackView:
    body = body or StartBody()
    item = await handlers.start(svc, callback_id, lc.Start(actor_of(principal), body.dial, body.number))
    return CallbackView.started(item, body.dial)


@router.post("/callbacks/{callback_id}/fail", response_model=CallbackView,
             summary="A failed attempt: retain it in your inbox or release it to the general inbox")
async def fail(callback_id: CallbackId, body: FailBody, principal: Worker, svc: ServiceDep) -> CallbackView:
    item = await handlers.fail(svc, callback_id, lc.Fail(actor_of(principal), body.retain, body.reason))
    return CallbackView.of(item)


@router.post("/callbacks/{callback_id}/release", response_model=CallbackView,
             summary="Give a claimed item back to the general inbox")
async def release(callback_id: CallbackId, principal: Worker, svc: ServiceDep) -> CallbackView:
    return CallbackView.of(await handlers.release(svc, callback_id, lc.Release(actor_of(principal))))


@router.post("/callbacks/{callback_id}/complete", response_model=CallbackView, summary="Complete the callback")
async def complete(callback_id: CallbackId, body: CompleteBody, principal: Worker, svc: ServiceDep) -> CallbackView:
    item = await handlers.complete(svc, callback_id, lc.Complete(actor_of(principal), body.outcome))
    return CallbackView.of(item)


@router.post("/callbacks/{callback_id}/cancel", response_model=CallbackView | CallbackAccepted,
             summary="Cancel the callback (a channel only before an agent claimed it)")
async def cancel(callback_id: CallbackId, principal: AnyRole, svc: ServiceDep,
                 body: Annotated[CancelBody | None, Body()] = None) -> CallbackView | CallbackAccepted:
    cmd = lc.Cancel(actor_of(principal), body.reason if body else None)
    return _view(await handlers.cancel(svc, callback_id, cmd), principal)
