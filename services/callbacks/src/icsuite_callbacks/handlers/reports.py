"""The supervisor's reports over the work items: counted by the database, never read item by item."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..domain import WorkItem
from ..domain.reports import AgentCallbacks, CallbackReport, DUE_SOON, due_before, open_items, owned, waiting
from ..repository import find_states
from .core import CallbacksService

AT_RISK_ORDER = [("due_at", 1), ("_id", 1)]


async def callback_report(svc: CallbacksService) -> CallbackReport:
    now = svc.clock()
    counts = await svc.items.count_by(open_items(), ["status", "queue"])
    breached = sum((await svc.items.count_by(due_before(now), [])).values())
    due = sum((await svc.items.count_by(due_before(now + DUE_SOON), [])).values())
    oldest = await find_states(svc.items, waiting(), [("created_at", 1), ("_id", 1)], 1)
    return CallbackReport(as_of=now, counts={(s, q): n for (s, q), n in counts.items()}, breached=breached,
                          due_soon=due - breached, oldest_waiting=oldest[0] if oldest else None)


async def at_risk_callbacks(svc: CallbacksService, within: timedelta, limit: int,
                            after: tuple[datetime, str] | None) -> list[WorkItem]:
    """Open items due before now + ``within`` (breached first), by due time."""
    query = due_before(svc.clock() + within)
    if after is not None:
        due, callback_id = after
        query = {"$and": [query, {"$or": [{"due_at": {"$gt": due}}, {"due_at": due, "_id": {"$gt": callback_id}}]}]}
    return await find_states(svc.items, query, AT_RISK_ORDER, limit)


async def open_callbacks_by_agent(svc: CallbacksService, limit: int, after: str | None) -> list[AgentCallbacks]:
    """Per agent (by id), the callbacks in her inbox: claimed (or retained) and in progress."""
    counts = await svc.items.count_by(owned(), ["owner", "status"])
    agents = sorted({owner for owner, _ in counts if after is None or owner > after})[:limit]
    return [AgentCallbacks(agent_id=a, claimed=counts.get((a, "claimed"), 0),
                           in_progress=counts.get((a, "in_progress"), 0)) for a in agents]
