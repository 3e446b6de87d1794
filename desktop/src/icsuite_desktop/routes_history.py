"""The interaction history of an account with filters and paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways, GatewayProblem
from .routes_record import Code, OptionalCode
from .session import CurrentUser
from .web import render

router = APIRouter(include_in_schema=False)
Filter = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:@-]*$")]
DateText = Annotated[str | None, Query(max_length=32)]
CHANNELS = ("phone", "email", "fax", "chat", "web", "sms", "letter", "walk_in")


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


def utc_moment(text: str | None) -> str | None:
    """A ``datetime-local`` or date input (taken as UTC) as RFC 3339; None when empty."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise GatewayProblem(422, "Invalid date", f"'{text[:32]}' is not a date and time", "desktop") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


@router.get("/accounts/{account_id}/history", response_class=HTMLResponse)
async def history(request: Request, account_id: str, user: CurrentUser, channel: Filter = None,
                  agent_id: Filter = None, outcome: Filter = None, status: Filter = None,
                  start: DateText = None, end: DateText = None,
                  cursor: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    filters = {"channel": channel, "agent_id": agent_id, "outcome": outcome, "status": status}
    query = {k: v for k, v in {**filters, "start": start, "end": end}.items() if v}
    page = await _timeline(request, user.token, account_id, {**filters, "from": utc_moment(start),
                                                              "to": utc_moment(end), "cursor": cursor})
    template = "partials/history.html" if request.headers.get("hx-request") == "true" else "history.html"
    return render(request, template, active="contact", account_id=account_id, items=page.get("items") or [],
                  next_cursor=page.get("next_cursor"), filters=query, channels=CHANNELS)


async def _timeline(request: Request, token: str, account_id: str, params: dict[str, Any]) -> dict[str, Any]:
    return await gateways(request).call("interactions", "GET", f"/v1/accounts/{account_id[:128]}/interactions",
                                        token, params={**params, "limit": 20})  # type: ignore[no-any-return]


BLOCKER_REASONS = {"not_found": "does not exist", "closed": "is already closed",
                   "other_account": "belongs to another account", "being_completed": "is being completed right now",
                   "changed_concurrently": "was changed meanwhile"}


@router.post("/accounts/{account_id}/complete", response_class=HTMLResponse)
async def complete_several(request: Request, account_id: str, user: CurrentUser, outcome: Code,
                           interaction_ids: Annotated[list[str], Form(max_length=100)],
                           result: OptionalCode = "", reason_code: OptionalCode = "") -> Response:
    """Several open records of one account completed in one all-or-nothing update; a refusal names each
    record in the way and why."""
    body = {"account_id": account_id[:128], "interaction_ids": [i[:128] for i in interaction_ids],
            "outcome": outcome, "result": result or None, "reason_code": reason_code or None}
    blockers: list[dict[str, str]] = []
    try:
        done = await gateways(request).call("interactions", "POST", "/v1/interactions/complete", user.token, json=body)
        message = f"Completed {len(done.get('completed') or [])} record(s)."
    except GatewayProblem as exc:
        if exc.status != 409 or not exc.extensions.get("blocking"):
            raise
        blockers = [{"interaction_id": b.get("interaction_id", "?"),
                     "why": BLOCKER_REASONS.get(b.get("reason", ""), b.get("reason", "is in the way"))}
                    for b in exc.extensions["blocking"]]
        message = ""
    page = await _timeline(request, user.token, account_id, {})
    return render(request, "partials/history.html", status=409 if blockers else 200, account_id=account_id,
                  items=page.get("items") or [], next_cursor=page.get("next_cursor"), filters={},
                  message=message, blockers=blockers)
