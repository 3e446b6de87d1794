"""The callback inbox: own and general inbox, claim next or one, the number to dial, start, fail, complete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways
from .session import CurrentUser, User
from .web import render

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
OptionalText = Annotated[str, Form(max_length=500)]


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


def _path(callback_id: str, action: str = "") -> str:
    return f"/v1/callbacks/{callback_id[:128]}{'/' + action if action else ''}"


async def inboxes(gw: Gateways, user: User) -> dict[str, Any]:
    own = await gw.call("callbacks", "GET", f"/v1/agents/{user.sub}/inbox", user.token, params={"limit": 50})
    general = await gw.call("callbacks", "GET", "/v1/inbox", user.token, params={"limit": 50})
    return {"own": own.get("items") or [], "general": general.get("items") or []}


@router.get("/callbacks", response_class=HTMLResponse)
async def inbox_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "callbacks.html", active="callbacks", **await inboxes(gateways(request), user))


@router.get("/fragments/inbox", response_class=HTMLResponse)
async def inbox_fragment(request: Request, user: CurrentUser) -> Response:
    return render(request, "partials/inbox.html", **await inboxes(gateways(request), user))


async def _inbox_after(request: Request, user: User, item: dict[str, Any] | None, message: str) -> Response:
    """The refreshed inbox after an action, the acted-on item first with its message."""
    return render(request, "partials/inbox.html", item=item, message=message,
                  **await inboxes(gateways(request), user))


@router.post("/callbacks/claim-next", response_class=HTMLResponse)
async def claim_next(request: Request, user: CurrentUser) -> Response:
    item = await gateways(request).call("callbacks", "POST", "/v1/callbacks/claim-next", user.token)
    message = "Claimed the most urgent item." if item else "The general inbox has nothing you can work on now."
    return await _inbox_after(request, user, item, message)


@router.post("/callbacks/{callback_id}/claim", response_class=HTMLResponse)
async def claim(request: Request, callback_id: str, user: CurrentUser) -> Response:
    item = await gateways(request).call("callbacks", "POST", _path(callback_id, "claim"), user.token)
    return await _inbox_after(request, user, item, "Claimed.")


@router.post("/callbacks/{callback_id}/start", response_class=HTMLResponse)
async def start(request: Request, callback_id: str, user: CurrentUser,
                dial: Annotated[str, Form(pattern="^(requested|account)$")] = "requested") -> Response:
    item = await gateways(request).call("callbacks", "POST", _path(callback_id, "start"), user.token,
                                        json={"dial": dial})
    return await _inbox_after(request, user, item, "Started: dial the number shown.")


@router.post("/callbacks/{callback_id}/complete", response_class=HTMLResponse)
async def complete(request: Request, callback_id: str, user: CurrentUser, outcome: Code) -> Response:
    item = await gateways(request).call("callbacks", "POST", _path(callback_id, "complete"), user.token,
                                        json={"outcome": outcome})
    return await _inbox_after(request, user, item, "Completed.")


@router.post("/callbacks/{callback_id}/fail", response_class=HTMLResponse)
async def fail(request: Request, callback_id: str, user: CurrentUser,
               retain: Annotated[str, Form(pattern="^(retain|release)$")] = "retain",
               reason: OptionalText = "") -> Response:
    body = {"retain": retain == "retain", "reason": reason.strip() or None}
    item = await gateways(request).call("callbacks", "POST", _path(callback_id, "fail"), user.token, json=body)
    kept = "kept in your inbox" if body["retain"] else "released to the general inbox"
    return await _inbox_after(request, user, item, f"Attempt failed: {kept}.")


@router.get("/callbacks/{callback_id}", response_class=HTMLResponse)
async def callback_page(request: Request, callback_id: str, user: CurrentUser) -> Response:
    item = await gateways(request).call("callbacks", "GET", _path(callback_id), user.token)
    return render(request, "callback.html", active="callbacks", item=item)
