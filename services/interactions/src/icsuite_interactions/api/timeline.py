"""The per-account timeline, newest first, with filters and cursor pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.pagination import CursorParam, Limit
from icsuite_contracts.base import Code, Id, InteractionChannel, Timestamp


from ..projections.timeline import TimelineFilter
from ..schemas import page_cursor, read_cursor
from .deps import Service
from .views import entry_view

router = APIRouter(prefix="/v1/accounts/{account_id}/interactions", tags=["timeline"],
                   dependencies=[audited("agent_id")])
StatusParam = Annotated[str | None, Query(pattern="^(open|closed)$")]


@router.get("", summary="The account's timeline, newest first")
async def account_timeline(account_id: Id, service: Service, _: AnyStaff, limit: Limit = 50,
                           cursor: CursorParam = None, channel: InteractionChannel | None = None,
                           agent_id: Id | None = None, outcome: Code | None = None, status: StatusParam = None,
                           opened_from: Annotated[Timestamp | None, Query(alias="from")] = None,
                           opened_to: Annotated[Timestamp | None, Query(alias="to")] = None) -> dict[str, Any]:
    where = TimelineFilter(account_id, channel, agent_id, outcome, status, opened_from, opened_to)
    entries = await service.timeline_queries.page(where, read_cursor(cursor), limit + 1)
    last = entries[limit - 1] if len(entries) > limit else None
    return {"items": [entry_view(e) for e in entries[:limit]],
            "next_cursor": page_cursor(last.opened_at, last.interaction_id) if last else None}
