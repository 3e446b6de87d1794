"""HTTP gateway for reason profiles: `GET|PUT /v1/reason-profiles/{reason_code}` (admins write)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from icsuite_chassis.auth import Admin, AnyStaff

from .. import handlers
from .deps import ServiceDep
from ..domain import DEFAULT_PROFILE
from ..schemas import ReasonProfileBody, ReasonProfileView

router = APIRouter(prefix="/v1", tags=["reason profiles"])

ReasonCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                                 description=f"The reason code; {DEFAULT_PROFILE!r} is the default profile.")]


@router.get("/reason-profiles", response_model=list[ReasonProfileView], summary="Every reason profile")
async def list_profiles(principal: AnyStaff, svc: ServiceDep) -> list[ReasonProfileView]:
    return [ReasonProfileView.of(p, DEFAULT_PROFILE) for p in await handlers.list_profiles(svc)]


@router.get("/reason-profiles/{reason_code}", response_model=ReasonProfileView, summary="One reason profile")
async def get_profile(reason_code: ReasonCode, principal: AnyStaff, svc: ServiceDep) -> ReasonProfileView:
    return ReasonProfileView.of(await handlers.get_profile(svc, reason_code), DEFAULT_PROFILE)


@router.put("/reason-profiles/{reason_code}", response_model=ReasonProfileView,
            responses={201: {"description": "the profile was created"}},
            summary="Create or replace a reason profile (admin)")
async def put_profile(reason_code: ReasonCode, body: ReasonProfileBody, principal: Admin, svc: ServiceDep,
                      response: Response) -> ReasonProfileView:
    profile = body.to_profile(reason_code)
    if await handlers.put_profile(svc, profile):
        response.status_code = 201
        response.headers["Location"] = f"/v1/reason-profiles/{reason_code}"
    return ReasonProfileView.of(profile, DEFAULT_PROFILE)
