"""The alert stream of an agent: server-sent events, resumed after ``Last-Event-ID``, ended with the token."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import AnyStaff, Principal
from icsuite_chassis.pagination import parse_last_event_id

from ..stream import alert_events, audience
from .deps import Service, is_supervisor, require_own

router = APIRouter(tags=["alerts"], dependencies=[audited()])


def stream_deadline(principal: Principal, timeout_s: float | None) -> float | None:
    """When the stream ends (monotonic): at the client's ``timeout_s`` or when the token expires."""
    ends = [timeout_s] if timeout_s is not None else []
    left = principal.seconds_left()
    if left is not None:
        ends.append(left)
    return time.monotonic() + min(ends) if ends else None


@router.get("/agents/{agent_id}/alerts/stream", response_class=StreamingResponse,
            summary="Server-sent events: `id: <position>`, `event: alert`, `data: <alert>`; resumes after "
                    "Last-Event-ID; ends when the token expires")
async def alert_stream(agent_id: str, svc: Service, principal: AnyStaff,
                       last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
                       last_event_id: Annotated[str | None, Query(max_length=64)] = None,
                       max_events: Annotated[int | None, Query(ge=1, le=10_000)] = None,
                       timeout_s: Annotated[float | None, Query(gt=0, le=3600)] = None) -> StreamingResponse:
    require_own(principal, agent_id)
    after = parse_last_event_id(last_event_id_header if last_event_id_header is not None else last_event_id)
    settings = svc.settings
    events = alert_events(svc.alert_queries, svc.stream, audience_filter=audience(agent_id, include_supervisor_alerts=(
                              principal.sub == agent_id and is_supervisor(principal))),
                          after=after, keepalive_s=settings.stream_keepalive_s, max_events=max_events,
                          deadline=stream_deadline(principal, timeout_s),
                          open_since=svc.clock() - timedelta(seconds=settings.stream_open_window_s))
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
