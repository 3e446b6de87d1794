"""The supervisor's view, built on the gateways' reports: open callbacks by status and queue with the oldest
waiting and the due or breached ones (callbacks), today's records by outcome and reason (interactions), each
agent's open work (interactions, callbacks and followups merged by agent), supervisor alerts (live, SSE).
The sections refresh themselves by htmx polling; the alerts arrive on the page's event stream."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways
from .session import SupervisorUser
from .web import render

router = APIRouter(include_in_schema=False)
AgentId = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")]
TimeZone = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")]
Cursor = Annotated[str | None, Query(max_length=512)]
DUE_PAGE = 50
TEAM_PAGE, TEAM_PAGES = 200, 5
OPEN_WORK = {"interactions": ("open_interactions",), "callbacks": ("claimed", "in_progress"),
             "followups": ("open_followups", "overdue")}


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


def sla_of(item: dict[str, Any], now: datetime) -> str:
    """``breached`` when the item's due time passed, else ``due`` (the due list holds only items due soon)."""
    due = datetime.fromisoformat(str(item["due_at"]).replace("Z", "+00:00"))
    return "breached" if due <= now else "due"


async def due_context(gw: Gateways, token: str, cursor: str | None = None) -> dict[str, Any]:
    """A page of the open callbacks due within 30 minutes or breached, each marked which."""
    due = await gw.call("callbacks", "GET", "/v1/reports/callbacks/due", token,
                        params={"limit": DUE_PAGE, "cursor": cursor})
    now = datetime.now(UTC)
    return {"due": [{**item, "sla": sla_of(item, now)} for item in due["items"]], "due_next": due["next_cursor"]}


async def callbacks_context(gw: Gateways, token: str) -> dict[str, Any]:
    report, due = await asyncio.gather(gw.call("callbacks", "GET", "/v1/reports/callbacks", token),
                                       due_context(gw, token))
    table = {(c["status"], c["queue"]): c["count"] for c in report["counts"]}
    return {"report": report, "queues": sorted({c["queue"] for c in report["counts"]}),
            "statuses": ["scheduled", "queued", "claimed", "in_progress"], "table": table, **due}


async def today_context(gw: Gateways, token: str, time_zone: str) -> dict[str, Any]:
    today = await gw.call("interactions", "GET", "/v1/reports/interactions/today", token,
                          params={"time_zone": time_zone})
    return {"today": today}


async def _all_pages(gw: Gateways, gateway: str, token: str) -> tuple[list[dict[str, Any]], bool]:
    """Up to ``TEAM_PAGES`` pages of a service's open-work report; True when more were left."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(TEAM_PAGES):
        page = await gw.call(gateway, "GET", "/v1/reports/open-work", token,
                             params={"limit": TEAM_PAGE, "cursor": cursor})
        items.extend(page["items"])
        if not (cursor := page["next_cursor"]):
            return items, False
    return items, True


def merge_open_work(reports: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per agent with every service's counts (0 where a service has none for her), by agent id."""
    rows: dict[str, dict[str, Any]] = {}
    for gateway, items in reports.items():
        for item in items:
            row = rows.setdefault(item["agent_id"], {"agent_id": item["agent_id"]} | {
                name: 0 for names in OPEN_WORK.values() for name in names})
            row.update({name: item.get(name, 0) for name in OPEN_WORK[gateway]})
    return [rows[agent] for agent in sorted(rows)]


async def team_context(gw: Gateways, token: str) -> dict[str, Any]:
    found = await asyncio.gather(*(_all_pages(gw, name, token) for name in OPEN_WORK))
    team = merge_open_work({name: items for name, (items, _) in zip(OPEN_WORK, found, strict=True)})
    return {"team": team, "team_truncated": any(more for _, more in found)}


@router.get("/supervisor", response_class=HTMLResponse)
async def supervisor_page(request: Request, user: SupervisorUser, time_zone: TimeZone = "UTC") -> Response:
    gw = gateways(request)
    callbacks, today, team, alerts = await asyncio.gather(
        callbacks_context(gw, user.token), today_context(gw, user.token, time_zone), team_context(gw, user.token),
        gw.call("alerts", "GET", "/v1/alerts", user.token, params={"status": "open", "limit": 50}))
    return render(request, "supervisor.html", active="supervisor", time_zone=time_zone,
                  alerts=alerts.get("items") or [], **callbacks, **today, **team)


@router.get("/fragments/supervisor/callbacks", response_class=HTMLResponse)
async def callbacks_fragment(request: Request, user: SupervisorUser) -> Response:
    return render(request, "partials/supervisor_callbacks.html", **await callbacks_context(gateways(request),
                                                                                           user.token))


@router.get("/fragments/supervisor/due", response_class=HTMLResponse)
async def due_fragment(request: Request, user: SupervisorUser, cursor: Cursor = None) -> Response:
    """The next page of the due list: its rows and the button for the page after."""
    return render(request, "partials/supervisor_due_rows.html",
                  **await due_context(gateways(request), user.token, cursor))


@router.get("/fragments/supervisor/today", response_class=HTMLResponse)
async def today_fragment(request: Request, user: SupervisorUser, time_zone: TimeZone = "UTC") -> Response:
    return render(request, "partials/supervisor_today.html", time_zone=time_zone,
                  **await today_context(gateways(request), user.token, time_zone))


@router.get("/fragments/supervisor/team", response_class=HTMLResponse)
async def team_fragment(request: Request, user: SupervisorUser) -> Response:
    return render(request, "partials/supervisor_team.html", **await team_context(gateways(request), user.token))


@router.get("/fragments/supervisor/agent", response_class=HTMLResponse)
async def agent_work(request: Request, user: SupervisorUser, agent_id: AgentId) -> Response:
    gw = gateways(request)
    records, inbox = await asyncio.gather(
        gw.call("interactions", "GET", "/v1/interactions", user.token,
                params={"agent_id": agent_id, "status": "open", "limit": 50}),
        gw.call("callbacks", "GET", f"/v1/agents/{agent_id}/inbox", user.token, params={"limit": 50}))
    return render(request, "partials/agent_work.html", agent_id=agent_id, records=records.get("items") or [],
                  callbacks=inbox.get("items") or [])
