"""Live alerts: the alerts gateway's SSE stream relayed to the browser (cookie-authenticated), and ack.

A browser's ``EventSource`` cannot send an ``Authorization`` header; the desktop opens the agent's stream
with the session's token and passes every alert on as an HTML fragment, keeping the stream position as
the event id. A reconnecting ``EventSource`` sends ``Last-Event-ID``, which is handed to the gateway, so
the stream resumes after the last alert the page showed: none missed, none twice.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from jinja2 import Template

from .gateways import Gateways, GatewayProblem, problem_of
from .session import CurrentUser, User
from .web import TEMPLATES, render

router = APIRouter(include_in_schema=False)
RETRY_MS = 2000


def sse_event(event: str, html: str, event_id: str | None = None) -> str:
    """One server-sent event whose data is ``html`` (one ``data:`` line per line of it)."""
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in html.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


async def parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, str]]:
    """Events of an SSE body as dicts of their fields (``data`` lines joined); comments are skipped."""
    event: dict[str, str] = {}
    async for line in lines:
        if line == "":
            if event:
                yield event
            event = {}
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        event[key] = f"{event[key]}\n{value}" if key == "data" and key in event else value


def _alert_template() -> Template:
    return TEMPLATES.env.get_template("partials/alert.html")


def _problem_template() -> Template:
    return TEMPLATES.env.get_template("partials/problem.html")


async def relay(gw: Gateways, user: User, last_event_id: str | None) -> AsyncIterator[str]:
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    yield f"retry: {RETRY_MS}\n: relayed alert stream of {user.sub}\n\n"
    try:
        async with gw.stream("alerts", f"/v1/agents/{user.sub}/alerts/stream", user.token, headers) as response:
            if response.status_code != 200:
                await response.aread()
                raise problem_of("alerts", response)
            async for event in parse_sse(response.aiter_lines()):
                if event.get("event") != "alert" or "data" not in event:
                    continue
                alert: dict[str, Any] = json.loads(event["data"])
                html = _alert_template().render(alert=alert, fresh=True)
                yield sse_event("alert", html, event.get("id"))
    except GatewayProblem as exc:
        html = _problem_template().render(code=exc.status, title=exc.title, detail=exc.detail)
        yield sse_event("problem", html)


@router.get("/events/alerts")
async def alert_events(request: Request, user: CurrentUser,
                       last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
                       last_event_id: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    raw = last_event_id_header or last_event_id
    if raw is not None and not raw.isdigit():
        raw = None
    gw: Gateways = request.app.state.gateways
    return StreamingResponse(relay(gw, user, raw), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/alerts/{alert_id}/ack", response_class=HTMLResponse)
async def acknowledge(request: Request, alert_id: str, user: CurrentUser) -> Response:
    gw: Gateways = request.app.state.gateways
    alert = await gw.call("alerts", "POST", f"/v1/alerts/{alert_id[:128]}/ack", user.token)
    return render(request, "partials/alert.html", alert=alert)


@router.get("/fragments/alerts", response_class=HTMLResponse)
async def open_alerts(request: Request, user: CurrentUser,
                      contact_id: Annotated[str | None, Query(max_length=128)] = None) -> Response:
    gw: Gateways = request.app.state.gateways
    page = await gw.call("alerts", "GET", "/v1/alerts", user.token,
                         params={"agent_id": user.sub, "status": "open", "contact_id": contact_id, "limit": 50})
    return render(request, "partials/alert_list.html", alerts=page.get("items") or [])
