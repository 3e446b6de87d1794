"""The current contact, live: ``/events/contact`` sends the agent's page the contact its segment started.

On connecting, the page gets the current state (the newest open interaction record of the agent); then
each push of the :class:`~.live.ContactFeed` is rendered at once from what the channel reported and the
contact's identification, and rendered again when its interaction record appears (a few short waits on
the server, never a poll of the browser).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from .gateways import Gateways, GatewayProblem
from .live import ContactFeed, ContactPush
from .routes_contact import current_contact, version_of
from .routes_stream import RETRY_MS, sse_event
from .session import CurrentUser, User
from .web import TEMPLATES

router = APIRouter(include_in_schema=False)
KEEPALIVE_S = 15.0
RECORD_WAITS_S = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
REPORTED = ("contact_id", "channel", "direction", "from_address", "to_address", "queue")


async def _context(gw: Gateways, user: User, contact_id: str) -> dict[str, Any] | None:
    try:
        return await gw.call("identity", "GET", f"/v1/contacts/{contact_id[:128]}/context", user.token)  # type: ignore[no-any-return]
    except GatewayProblem as exc:
        if exc.status != 404:
            raise
        return None


async def _record(gw: Gateways, user: User, contact_id: str) -> dict[str, Any] | None:
    page = await gw.call("interactions", "GET", "/v1/interactions", user.token, params={"status": "open", "limit": 20})
    return next((r for r in page.get("items") or [] if r.get("contact_id") == contact_id), None)


async def pushed_contact(gw: Gateways, user: User, push: ContactPush) -> dict[str, Any]:
    """The pushed contact as the page shows it: its record when the interactions service has it, else what the
    channel reported, with the contact's business object context."""
    record, context = await asyncio.gather(_record(gw, user, push.contact_id), _context(gw, user, push.contact_id))
    if record is None:
        reported = push.started or {"contact_id": push.contact_id}
        record = {key: reported.get(key) for key in REPORTED} | {"interaction_id": None}
    return {"record": record, "context": context}


def render_contact(current: dict[str, Any] | None) -> str:
    template = TEMPLATES.env.get_template("partials/current_contact.html")
    return template.render(current=current, version=version_of(current))


async def contact_stream(request: Request, gw: Gateways, feed: ContactFeed, user: User) -> AsyncIterator[str]:
    queue = feed.subscribe(user.sub)  # before reading the state: a push in between is not lost
    try:
        yield f"retry: {RETRY_MS}\n: current contact of {user.sub}\n\n"
        yield sse_event("contact", render_contact(await current_contact(gw, user)))
        waiting: ContactPush | None = None  # shown without its record yet
        waits = iter(())
        while not await request.is_disconnected():
            timeout = next(waits, None) if waiting else KEEPALIVE_S
            try:
                push = await asyncio.wait_for(queue.get(), timeout=timeout or KEEPALIVE_S)
            except TimeoutError:
                if waiting is None or timeout is None:
                    waiting = None
                    yield ": keepalive\n\n"
                    continue
                push = waiting
            current = await pushed_contact(gw, user, push)
            yield sse_event("contact", render_contact(current))
            if current["record"].get("interaction_id"):
                waiting = None
            elif waiting is None or waiting.contact_id != push.contact_id:
                waiting, waits = push, iter(RECORD_WAITS_S)
    except GatewayProblem as exc:
        html = TEMPLATES.env.get_template("partials/problem.html").render(code=exc.status, title=exc.title,
                                                                           detail=exc.detail)
        yield sse_event("problem", html)
    finally:
        feed.unsubscribe(user.sub, queue)


@router.get("/events/contact")
async def contact_events(request: Request, user: CurrentUser) -> Response:
    stream = contact_stream(request, request.app.state.gateways, request.app.state.contact_feed, user)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
