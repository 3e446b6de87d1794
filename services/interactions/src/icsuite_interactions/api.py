"""HTTP gateway of the interactions service: records, the per-account timeline, completion.

Roles: reads and changes need ``agent``, ``supervisor`` or ``admin``; ``POST /v1/interactions`` (a manual
record) also accepts a ``channel`` token (a scanning or front-desk system registering a letter or walk-in).
Notes, activities and attachments are in :mod:`icsuite_interactions.api_parts`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from icsuite_chassis.auth import AnyStaff, Principal, require_roles
from icsuite_chassis.pagination import CursorParam, Limit
from icsuite_chassis.problems import Conflict, NotFound
from icsuite_contracts.base import Code, Id, InteractionChannel
from pydantic import AwareDatetime

from .attachments import AttachmentStore
from .closing import CompletionBlocked, Closer
from .commands import Commands
from .domain.ids import interaction_id_for_contact
from .domain.record import InteractionBusy, InteractionNotFound, InteractionReadOnly, record_view, summary_view
from .repository import InteractionsRepository
from .schemas import BulkCompleteIn, CompleteIn, ManualInteractionIn, page_cursor, read_cursor
from .settings import InteractionsSettings
from .timeline import Timeline, TimelineFilter, entry_view

router = APIRouter(prefix="/v1", tags=["interactions"])
StatusParam = Annotated[str | None, Query(pattern="^(open|closed)$")]


@dataclass(frozen=True)
class Services:
    settings: InteractionsSettings
    repo: InteractionsRepository
    commands: Commands
    closer: Closer
    timeline: Timeline
    attachments: AttachmentStore


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


Svc = Annotated[Services, Depends(services)]
StaffOrChannel = Annotated[Principal, Depends(require_roles("agent", "supervisor", "admin", "channel"))]


@contextmanager
def domain_errors() -> Iterator[None]:
    """Domain refusals as problem details: unknown record 404, closed or busy record 409."""
    try:
        yield
    except InteractionNotFound as exc:
        raise NotFound(f"no interaction {exc}", slug="interaction-not-found") from None
    except InteractionReadOnly as exc:
        raise Conflict(f"interaction {exc} is closed and read-only", slug="interaction-closed") from None
    except InteractionBusy as exc:
        raise Conflict(f"interaction {exc} is being completed right now; try again",
                       slug="interaction-being-completed") from None


async def existing_record(svc: Services, interaction_id: str) -> dict[str, Any]:
    doc = await svc.repo.get(interaction_id)
    if doc is None:
        raise NotFound(f"no interaction {interaction_id}", slug="interaction-not-found")
    return doc


@router.get("/accounts/{account_id}/interactions", summary="The account's timeline, newest first")
async def account_timeline(account_id: Id, svc: Svc, _: AnyStaff, limit: Limit = 50, cursor: CursorParam = None,
                           channel: InteractionChannel | None = None, agent_id: Id | None = None,
                           outcome: Code | None = None, status: StatusParam = None,
                           opened_from: Annotated[AwareDatetime | None, Query(alias="from")] = None,
                           opened_to: Annotated[AwareDatetime | None, Query(alias="to")] = None) -> dict[str, Any]:
    where = TimelineFilter(account_id, channel, agent_id, outcome, status, opened_from, opened_to)
    docs = await svc.timeline.page(where, read_cursor(cursor), limit + 1)
    return {"items": [entry_view(d) for d in docs[:limit]],
            "next_cursor": page_cursor(docs[limit - 1], "opened_at") if len(docs) > limit else None}


@router.get("/interactions", summary="Records of an agent (default: the caller), or of a contact")
async def list_interactions(svc: Svc, principal: AnyStaff, limit: Limit = 50, cursor: CursorParam = None,
                            agent_id: Id | None = None, status: StatusParam = None,
                            contact_id: Id | None = None) -> dict[str, Any]:
    if contact_id is not None:  # the id derives from the contact id: one lookup
        doc = await svc.repo.get(interaction_id_for_contact(contact_id))
        return {"items": [summary_view(doc)] if doc and (status in (None, doc.get("status"))) else [],
                "next_cursor": None}
    docs = await svc.repo.list_for_agent(agent_id or principal.sub, status, read_cursor(cursor), limit + 1)
    return {"items": [summary_view(d) for d in docs[:limit]],
            "next_cursor": page_cursor(docs[limit - 1], "created_at") if len(docs) > limit else None}


@router.post("/interactions", status_code=201, summary="A record for a contact no channel reported")
async def create_interaction(body: ManualInteractionIn, svc: Svc, principal: StaffOrChannel,
                             response: Response) -> dict[str, Any]:
    staff = principal.has_any("agent", "supervisor", "admin")
    agent_id = principal.sub if staff else body.agent_id
    doc = await svc.commands.create_manual(body.model_dump(), agent_id)
    response.headers["Location"] = f"/v1/interactions/{doc['_id']}"
    return record_view(doc)


@router.post("/interactions/complete", summary="Complete several records of one account, all or nothing")
async def complete_many(body: BulkCompleteIn, svc: Svc, principal: AnyStaff) -> dict[str, Any]:
    try:
        ids = await svc.closer.complete_many(body.account_id, body.interaction_ids, outcome=body.outcome,
                                             result=body.result, reason_code=body.reason_code,
                                             agent_id=principal.sub)
    except CompletionBlocked as exc:
        raise Conflict(f"no record was completed; blocking: {exc}", slug="completion-blocked",
                       blocking=[b.as_dict() for b in exc.blockers]) from None
    docs = [await svc.repo.get(i) for i in ids]
    return {"account_id": body.account_id, "completed": ids, "items": [record_view(d) for d in docs if d]}


@router.get("/interactions/{interaction_id}", summary="One interaction record")
async def get_interaction(interaction_id: Id, svc: Svc, _: AnyStaff) -> dict[str, Any]:
    return record_view(await existing_record(svc, interaction_id))


@router.post("/interactions/{interaction_id}/complete", summary="Complete a record with outcome, result, reason")
async def complete_interaction(interaction_id: Id, body: CompleteIn, svc: Svc, principal: AnyStaff) -> dict[str, Any]:
    with domain_errors():
        doc = await svc.closer.complete(interaction_id, outcome=body.outcome, result=body.result,
                                        reason_code=body.reason_code, agent_id=principal.sub)
    return record_view(doc)
