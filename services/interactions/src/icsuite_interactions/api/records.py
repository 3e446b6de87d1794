"""Records: list an agent's or a contact's, create one by hand, read one, complete one or several."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.pagination import CursorParam, Limit
from icsuite_contracts.base import Id

from ..domain.ids import interaction_id_for_contact
from ..domain.rules import Completion
from ..schemas import BulkCompleteIn, CompleteIn, ManualInteractionIn, page_cursor, read_cursor
from .deps import ExistingRecord, Service, StaffActor, StaffOrChannel
from .views import record_view, summary_view

router = APIRouter(prefix="/v1/interactions", tags=["interactions"], dependencies=[audited("agent_id", "contact_id")])
StatusParam = Annotated[str | None, Query(pattern="^(open|closed)$")]


@router.get("", summary="Records of an agent (default: the caller), or of a contact")
async def list_interactions(service: Service, principal: AnyStaff, limit: Limit = 50, cursor: CursorParam = None,
                            agent_id: Id | None = None, status: StatusParam = None,
                            contact_id: Id | None = None) -> dict[str, Any]:
    if contact_id is not None:  # the id derives from the contact id: one lookup
        record = await service.records.get(interaction_id_for_contact(contact_id))
        found = record is not None and status in (None, record.status)
        return {"items": [summary_view(record)] if found and record else [], "next_cursor": None}
    records = await service.records.list_for_agent(agent_id or principal.sub, status, read_cursor(cursor), limit + 1)
    last = records[limit - 1] if len(records) > limit else None
    return {"items": [summary_view(r) for r in records[:limit]],
            "next_cursor": page_cursor(last.created_at, last.interaction_id) if last else None}


@router.post("", status_code=201, summary="A record for a contact no channel reported")
async def create_interaction(body: ManualInteractionIn, service: Service, principal: StaffOrChannel,
                             response: Response) -> dict[str, Any]:
    staff = principal.has_any("agent", "supervisor", "admin")
    record = await service.commands.create_manual(body.model_dump(exclude={"agent_id"}),
                                                  principal.sub if staff else body.agent_id)
    response.headers["Location"] = f"/v1/interactions/{record.interaction_id}"
    return record_view(record)


@router.post("/complete", summary="Complete several records of one account, all or nothing")
async def complete_many(body: BulkCompleteIn, service: Service, actor: StaffActor) -> dict[str, Any]:
    completion = Completion(body.outcome, body.result, body.reason_code)
    records = await service.commands.complete_many(body.account_id, body.interaction_ids, actor, completion)
    return {"account_id": body.account_id, "completed": [r.interaction_id for r in records],
            "items": [record_view(r) for r in records]}


@router.get("/{interaction_id}", summary="One interaction record")
async def get_interaction(record: ExistingRecord) -> dict[str, Any]:
    return record_view(record)


@router.post("/{interaction_id}/complete", summary="Complete a record with outcome, result, reason")
async def complete_interaction(interaction_id: Id, body: CompleteIn, service: Service,
                               actor: StaffActor) -> dict[str, Any]:
    completion = Completion(body.outcome, body.result, body.reason_code)
    return record_view(await service.commands.complete(interaction_id, actor, completion))
