"""The supervisor's view: the general inbox by queue with the oldest waiting and the due or breached items,
supervisor alerts (live), and one agent's open work. Built on the gateway endpoints that exist today; the
aggregates across agents (callbacks by status, today's interactions by outcome) have no endpoint yet."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways
from .session import SupervisorUser
from .web import render

router = APIRouter(include_in_schema=False)
DUE_SOON = timedelta(minutes=30)
AgentId = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")]


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def inbox_overview(items: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Per queue counts, the oldest waiting item, and each item marked breached, due soon or on time."""
    marked = []
    for item in items:
        due = _moment(item.get("due_at"))
        state = "breached" if due and due < now else "due" if due and due < now + DUE_SOON else "ok"
        marked.append({**item, "sla": state})
    oldest = min(marked, key=lambda i: i.get("created_at") or "", default=None)
    return {"items": marked, "queues": sorted(Counter(i.get("queue") or "–" for i in marked).items()),
            "breached": sum(i["sla"] == "breached" for i in marked), "due": sum(i["sla"] == "due" for i in marked),
            "oldest": oldest}


@router.get("/supervisor", response_class=HTMLResponse)
async def supervisor_page(request: Request, user: SupervisorUser) -> Response:
    return render(request, "supervisor.html", active="supervisor", **await _overview(gateways(request), user.token))


@router.get("/fragments/supervisor/inbox", response_class=HTMLResponse)
async def inbox_fragment(request: Request, user: SupervisorUser) -> Response:
    return render(request, "partials/supervisor_inbox.html", **await _overview(gateways(request), user.token))


async def _overview(gw: Gateways, token: str) -> dict[str, Any]:
    general = await gw.call("callbacks", "GET", "/v1/inbox", token, params={"limit": 200})
    alerts = await gw.call("alerts", "GET", "/v1/alerts", token, params={"status": "open", "limit": 50})
    overview = inbox_overview(general.get("items") or [], datetime.now(UTC))
    return {"inbox": overview, "truncated": bool(general.get("next_cursor")), "alerts": alerts.get("items") or []}


@router.get("/fragments/supervisor/agent", response_class=HTMLResponse)
async def agent_work(request: Request, user: SupervisorUser, agent_id: AgentId) -> Response:
    gw = gateways(request)
    records = await gw.call("interactions", "GET", "/v1/interactions", user.token,
                            params={"agent_id": agent_id, "status": "open", "limit": 50})
    inbox = await gw.call("callbacks", "GET", f"/v1/agents/{agent_id}/inbox", user.token, params={"limit": 50})
    return render(request, "partials/agent_work.html", agent_id=agent_id, records=records.get("items") or [],
                  callbacks=inbox.get("items") or [])
