"""What every route of the gateway shares: the service, who acts, inbox cursors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request
from icsuite_chassis.auth import Principal, require_roles
from icsuite_chassis.pagination import InvalidCursor, decode_cursor, encode_cursor

from ..domain import Actor, WorkItem
from ..handlers import CallbacksService
from ..repository import InboxPosition


async def _service(request: Request) -> CallbacksService:
    """Async although it awaits nothing: FastAPI hands a sync dependency to its thread pool on every request."""
    return request.app.state.service  # type: ignore[no-any-return]


ServiceDep = Annotated[CallbacksService, Depends(_service)]
AnyRole = Annotated[Principal, Depends(require_roles("agent", "supervisor", "admin", "channel"))]
Worker = Annotated[Principal, Depends(require_roles("agent", "supervisor", "admin"))]
CallbackId = Annotated[str, Path(min_length=1, max_length=128, description="The callback (= its request id).")]


def actor_of(principal: Principal) -> Actor:
    return Actor(id=principal.sub, supervisor=principal.has_any("supervisor", "admin"),
                 channel=principal.has_any("channel"), skills=principal.skills, languages=principal.languages)


def is_channel_only(principal: Principal) -> bool:
    return principal.has_any("channel") and not principal.has_any("agent", "supervisor", "admin")


def next_cursor(items: list[WorkItem], limit: int) -> str | None:
    if len(items) < limit or not items:
        return None
    last = items[-1]
    return encode_cursor({"p": last.routing.priority, "d": last.due_at.isoformat(), "i": last.callback_id})


def position_of(cursor: str | None) -> InboxPosition | None:
    position = decode_cursor(cursor, required_keys=("p", "d", "i"))
    if position is None:
        return None
    p, d, i = position["p"], position["d"], position["i"]
    try:
        if not isinstance(p, int) or isinstance(p, bool) or not isinstance(i, str) or not isinstance(d, str):
            raise ValueError
        due = datetime.fromisoformat(d)
        if due.tzinfo is None:
            raise ValueError
    except ValueError:
        raise InvalidCursor() from None
    return InboxPosition(priority=p, due_at=due, callback_id=i)
