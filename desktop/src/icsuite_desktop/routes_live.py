"""The current contact, live: ``/events/contact`` sends the agent's page the contact its segment started.

On connecting, the page gets the current state (the newest open interaction record of the agent); then
each push of the :class:`~.live.ContactFeed` for a new contact is sent at once as the channel reported it,
then again with the contact's identification and its interaction record from the gateways, and once more
when what was missing appears (a few waits on the server, never a poll of the browser). Both the record and
the context are waited for: identity publishes no event for a caller it could not identify, so nothing
else would tell the page once identity has stored that outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
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
COMPLETION_WAITS_S = (0.1, 0.25, 0.5, 1.0, 2.0, *(4.0,) * 12)
"""When the stream looks again for a contact's record or context that was not there yet: about a minute in all."""
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


def reported_contact(push: ContactPush) -> dict[str, Any]:
    """The pushed contact as its channel reported it, before any gateway is asked."""
    reported = push.started or {"contact_id": push.contact_id}
    return {"record": {key: reported.get(key) for key in REPORTED} | {"interaction_id": None}, "context": None}


async def pushed_contact(gw: Gateways, user: User, push: ContactPush) -> dict[str, Any]:
    """The pushed contact as the page shows it: its record when the interactions service has it, else what the
    channel reported, with the contact's business object context."""
    record, context = await asyncio.gather(_record(gw, user, push.contact_id), _context(gw, user, push.contact_id))
    return {"record": record or reported_contact(push)["record"], "context": context}


def is_complete(current: dict[str, Any]) -> bool:
    """Both the interaction record and the contact's context (with identity's outcome) are there."""
    return bool(current["record"].get("interaction_id")) and current["context"] is not None


def render_contact(current: dict[str, Any] | None) -> str:
    template = TEMPLATES.env.get_template("partials/current_contact.html")
    return template.render(current=current, version=version_of(current))


class _ContactStream:
    """One page's stream. The newest push wins: pushes that queued meanwhile are skipped, a new caller is sent
    at once, and its completion from the gateways runs beside the feed (a newer push cancels it), so a slow
    gateway never delays the next caller."""

    def __init__(self, gw: Gateways, queue: asyncio.Queue[ContactPush], user: User, shown: str | None):
        self.gw, self.queue, self.user, self.shown = gw, queue, user, shown
        self.getter: asyncio.Future[ContactPush] | None = None
        self.completing: tuple[ContactPush, asyncio.Future[dict[str, Any]]] | None = None
        self.waiting: ContactPush | None = None  # shown without its record or its context yet
        self.waits: Iterator[float] = iter(())

    def look_again(self, push: ContactPush) -> None:
        """Complete ``push`` again after each of the waits, until it is complete (or the waits run out)."""
        if self.waiting is None or self.waiting.contact_id != push.contact_id:
            self.waiting, self.waits = push, iter(COMPLETION_WAITS_S)

    def _complete(self, push: ContactPush) -> None:
        if self.completing is not None:
            self.completing[1].cancel()
        self.completing = (push, asyncio.ensure_future(pushed_contact(self.gw, self.user, push)))

    def _newest(self, push: ContactPush) -> ContactPush:
        while not self.queue.empty():
            push = self.queue.get_nowait()
        return push

    async def next_events(self) -> list[str]:
        self.getter = self.getter or asyncio.ensure_future(self.queue.get())
        retry = next(self.waits, None) if self.waiting is not None and self.completing is None else None
        tasks: set[asyncio.Future[Any]] = {self.getter, *([self.completing[1]] if self.completing else [])}
        done, _ = await asyncio.wait(tasks, timeout=retry or KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED)
        if self.getter in done:
            push, self.getter = self._newest(self.getter.result()), None
            self._complete(push)
            if push.contact_id == self.shown:
                return []
            self.shown = push.contact_id
            return [sse_event("contact", render_contact(reported_contact(push)))]
        if self.completing is not None and self.completing[1] in done:
            (push, task), self.completing = self.completing, None
            current = task.result()
            if is_complete(current):
                self.waiting = None
            else:
                self.look_again(push)
            return [sse_event("contact", render_contact(current))]
        if retry is not None and self.waiting is not None:
            self._complete(self.waiting)
            return []
        self.waiting = None
        return [": keepalive\n\n"]

    def close(self) -> None:
        for task in (self.getter, self.completing[1] if self.completing else None):
            if task is not None:
                task.cancel()


async def contact_stream(request: Request, gw: Gateways, feed: ContactFeed, user: User) -> AsyncIterator[str]:
    queue = feed.subscribe(user.sub)  # before reading the state: a push in between is not lost
    stream: _ContactStream | None = None
    try:
        yield f"retry: {RETRY_MS}\n: current contact of {user.sub}\n\n"
        state = await current_contact(gw, user)
        yield sse_event("contact", render_contact(state))
        shown = state["record"].get("contact_id") if state else None
        stream = _ContactStream(gw, queue, user, shown)
        if state is not None and shown and not is_complete(state):  # identity has not stored its outcome yet
            stream.look_again(ContactPush(shown, None))
        while not await request.is_disconnected():
            for event in await stream.next_events():
                yield event
    except GatewayProblem as exc:
        html = TEMPLATES.env.get_template("partials/problem.html").render(code=exc.status, title=exc.title,
                                                                           detail=exc.detail)
        yield sse_event("problem", html)
    finally:
        if stream is not None:
            stream.close()
        feed.unsubscribe(user.sub, queue)


@router.get("/events/contact")
async def contact_events(request: Request, user: CurrentUser) -> Response:
    stream = contact_stream(request, request.app.state.gateways, request.app.state.contact_feed, user)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
