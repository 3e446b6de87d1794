"""Raised alerts: listed newest first, read and acknowledged by their agent or a supervisor."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.pagination import CursorParam, Limit, Page, cursor_int, decode_cursor, encode_cursor

from ..domain.errors import AlertNotFound
from ..schemas import AlertOut
from .deps import Service, is_supervisor, require_own

router = APIRouter(tags=["alerts"], dependencies=[audited("agent_id", "contact_id", "account_id")])


@router.get("/alerts", response_model=Page[AlertOut], summary="Raised alerts, newest first")
async def list_alerts(svc: Service, principal: AnyStaff, agent_id: str | None = None, contact_id: str | None = None,
                      account_id: str | None = None,
                      status: Annotated[str | None, Query(pattern="^(open|acknowledged)$")] = None,
                      limit: Limit = 50, cursor: CursorParam = None) -> Page[AlertOut]:
    if not is_supervisor(principal):
        require_own(principal, agent_id or principal.sub)
        agent_id = principal.sub
    filters: dict[str, Any] = {k: v for k, v in {"agent_id": agent_id, "contact_id": contact_id,
                                                 "account_id": account_id, "status": status}.items() if v is not None}
    if account_id is not None:  # a merged account answers with its merge group (the surviving account's)
        group = (await svc.accounts.groups([account_id])).get(account_id)
        filters["account_id"] = {"$in": list(group)} if group else account_id
    position = decode_cursor(cursor, required_keys=("p",))
    before = cursor_int(position, "p") if position else None
    alerts = await svc.alert_queries.page(filters, before=before, limit=limit + 1)
    page = alerts[:limit]
    next_cursor = encode_cursor({"p": page[-1].position}) if len(alerts) > limit else None
    return Page[AlertOut](items=[AlertOut(**a.public()) for a in page], next_cursor=next_cursor)


@router.get("/alerts/{alert_id}", response_model=AlertOut, summary="One alert")
async def get_alert(alert_id: str, svc: Service, principal: AnyStaff) -> AlertOut:
    alert = await svc.alert_queries.get(alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    require_own(principal, alert.agent_id)
    return AlertOut(**alert.public())


@router.post("/alerts/{alert_id}/ack", response_model=AlertOut, summary="Acknowledge an alert")
async def acknowledge(alert_id: str, svc: Service, principal: AnyStaff) -> AlertOut:
    alert = await svc.alert_queries.get(alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    require_own(principal, alert.agent_id)
    return AlertOut(**(await svc.acknowledge(alert_id, by=principal.sub)).public())
