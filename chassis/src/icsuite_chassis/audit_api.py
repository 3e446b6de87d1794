"""``GET /v1/audit``: a service's audit log for administrators, newest first, in strict cursor pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from icsuite_contracts.base import Id, Timestamp
from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection

from .audit import AUDIT_COLLECTION
from .auth import Admin
from .pagination import CursorParam, Limit, Page, cursor_text, cursor_time, decode_cursor, encode_cursor


class AuditEntry(BaseModel):
    audit_id: str
    at: datetime
    actor: str | None
    roles: list[str]
    method: str
    route: str
    action: str
    ids: dict[str, Any]
    account_ids: list[str]
    status: int
    trace_id: str | None = None
    details: dict[str, Any] = {}


def entry_out(doc: dict[str, Any]) -> AuditEntry:
    return AuditEntry(audit_id=doc["_id"], **{k: v for k, v in doc.items() if k != "_id"})


def audit_filter(account_id: str | None, actor: str | None, since: datetime | None,
                 until: datetime | None, position: dict[str, Any] | None) -> dict[str, Any]:
    """The query of one page: the filters, and strictly before the cursor's (at, id) when paging on."""
    where: dict[str, Any] = {}
    if account_id:
        where["account_ids"] = account_id
    if actor:
        where["actor"] = actor
    bounds = {op: moment for op, moment in (("$gte", since), ("$lt", until)) if moment is not None}
    if bounds:
        where["at"] = bounds
    if position is None:
        return where
    at, last_id = cursor_time(position, "t"), cursor_text(position, "id")
    after = {"$or": [{"at": {"$lt": at}}, {"at": at, "_id": {"$lt": last_id}}]}
    return {"$and": [where, after]} if where else after


async def audit_page(collection: AsyncCollection[dict[str, Any]], where: dict[str, Any],
                     limit: int) -> Page[AuditEntry]:
    docs = [doc async for doc in collection.find(where).sort([("at", -1), ("_id", -1)]).limit(limit + 1)]
    page = docs[:limit]
    last = page[-1] if len(docs) > limit else None
    next_cursor = encode_cursor({"t": last["at"].isoformat(), "id": last["_id"]}) if last else None
    return Page[AuditEntry](items=[entry_out(doc) for doc in page], next_cursor=next_cursor)


router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/audit", response_model=Page[AuditEntry],
            summary="Who read or changed personal data here, newest first (administrators)",
            responses={403: {"description": "the caller is not an administrator"}})
async def list_audit(request: Request, _: Admin, account_id: Id | None = None, actor: Id | None = None,
                     since: Annotated[Timestamp | None, Query(alias="from")] = None,
                     until: Annotated[Timestamp | None, Query(alias="to")] = None,
                     limit: Limit = 50, cursor: CursorParam = None) -> Page[AuditEntry]:
    position = decode_cursor(cursor, required_keys=("t", "id"))
    collection = request.app.state.runtime.db[AUDIT_COLLECTION]
    return await audit_page(collection, audit_filter(account_id, actor, since, until, position), limit)
