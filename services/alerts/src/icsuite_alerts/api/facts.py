"""The facts of an account as rules see them now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import AnyStaff

from .deps import Service

router = APIRouter(tags=["facts"], dependencies=[audited()])


@router.get("/accounts/{account_id}/facts", summary="The facts of an account as rules see them now")
async def account_facts(account_id: str, svc: Service, _: AnyStaff) -> dict[str, Any]:
    return {"account_id": account_id, "facts": await svc.facts_now(account_id)}
