"""The customizing: permitted follow-up types and the copying control (staff read, admins write)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from icsuite_chassis.auth import Admin, AnyStaff

from .. import handlers
from ..repository import COPY_RULES_CONFIG, FOLLOWUP_TYPES_CONFIG
from ..schemas import CopyRulesIn, CopyRulesOut, FollowupTypesIn, FollowupTypesOut
from . import representations as rep
from .deps import ServiceDep

router = APIRouter(prefix="/config", tags=["customizing"])


@router.get("/followup-types", response_model=FollowupTypesOut)
async def get_followup_types(svc: ServiceDep, _: AnyStaff) -> dict[str, Any]:
    return rep.type_rules_out(await handlers.read_config(svc, FOLLOWUP_TYPES_CONFIG))


@router.put("/followup-types", response_model=FollowupTypesOut)
async def put_followup_types(body: FollowupTypesIn, svc: ServiceDep, admin: Admin) -> dict[str, Any]:
    return rep.type_rules_out(await handlers.replace_config(
        svc, FOLLOWUP_TYPES_CONFIG, rep.type_rules(body), by=admin.sub, expected_version=body.version))


@router.get("/copy-rules", response_model=CopyRulesOut)
async def get_copy_rules(svc: ServiceDep, _: AnyStaff) -> dict[str, Any]:
    return rep.copy_rules_out(await handlers.read_config(svc, COPY_RULES_CONFIG))


@router.put("/copy-rules", response_model=CopyRulesOut)
async def put_copy_rules(body: CopyRulesIn, svc: ServiceDep, admin: Admin) -> dict[str, Any]:
    return rep.copy_rules_out(await handlers.replace_config(
        svc, COPY_RULES_CONFIG, rep.copy_rules(body), by=admin.sub, expected_version=body.version))
