"""Mapping between the gateway and the domain: who acts, which problem an error is, inbox cursors."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from icsuite_chassis.auth import Principal
from icsuite_chassis.pagination import decode_cursor, encode_cursor
from icsuite_chassis.problems import (
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    TooManyRequests,
    Unprocessable,
    problem_response,
)

from .domain import Actor, CallbackError, InvalidRequest, NotOwner, TooManyOpenRequests, WorkItem, WrongState
from .handlers import ConcurrentChange, ItemNotFound
from .repository import InboxPosition


def actor_of(principal: Principal) -> Actor:
    return Actor(id=principal.sub, supervisor=principal.has_any("supervisor", "admin"),
                 channel=principal.has_any("channel"))


def problem_for(exc: CallbackError) -> Problem:
    detail = str(exc)
    if isinstance(exc, InvalidRequest):
        return Unprocessable(detail, slug="invalid-callback-request")
    if isinstance(exc, TooManyOpenRequests):
        return TooManyRequests(detail, slug="too-many-open-requests")
    if isinstance(exc, NotOwner):
        return Forbidden(detail, slug="not-owner")
    if isinstance(exc, ItemNotFound):
        return NotFound(detail, slug="callback-not-found")
    if isinstance(exc, (WrongState, ConcurrentChange)):
        return Conflict(detail, slug="wrong-state")
    return Problem(detail)


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
        raise Unprocessable("the cursor is malformed; pass next_cursor of a previous page unchanged",
                            slug="invalid-cursor") from None
    return InboxPosition(priority=p, due_at=due, callback_id=i)


def install_error_mapping(app: FastAPI) -> None:
    """Every domain decision that refuses a request answers its problem details (never 500)."""

    @app.exception_handler(CallbackError)
    async def _domain_error(request: Request, exc: CallbackError) -> JSONResponse:
        problem = problem_for(exc)
        return problem_response(request, status=problem.status, title=problem.title, detail=problem.detail,
                                slug=problem.slug, **problem.extensions)
