"""Erasure requests: an administrator asks that an account be erased across the suite and follows it."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from icsuite_chassis.audit import audited, note_audit
from icsuite_chassis.auth import Admin
from icsuite_chassis.problems import NotFound
from pydantic import BaseModel, ConfigDict, Field

from ..domain.erasures import SERVICES, Erasure
from ..handlers import erasures
from .deps import IdPath, Service

router = APIRouter(prefix="/v1/privacy", tags=["privacy"])


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(min_length=1, max_length=128, description="The account to erase.")


class ServiceProgress(BaseModel):
    status: str = Field(description="`pending` until the service confirmed, then `erased`.")
    erased: dict[str, int] = Field(default_factory=dict, description="Per kind of data, how many items it erased.")
    erased_at: datetime | None = None


class ErasureOut(BaseModel):
    erasure_id: str
    account_id: str
    requested_by: str
    requested_at: datetime
    status: str = Field(description="`open` until all five services confirmed, then `completed`.")
    completed_at: datetime | None = None
    services: dict[str, ServiceProgress]


def erasure_out(erasure: Erasure) -> ErasureOut:
    services = {}
    for service in SERVICES:
        done = erasure.confirmations.get(service)
        services[service] = (ServiceProgress(status="erased", erased=dict(done.erased), erased_at=done.erased_at)
                             if done is not None else ServiceProgress(status="pending"))
    return ErasureOut(erasure_id=erasure.erasure_id, account_id=erasure.account_id,
                      requested_by=erasure.requested_by, requested_at=erasure.requested_at, status=erasure.status,
                      completed_at=erasure.completed_at, services=services)


@router.post("/erasures", status_code=202, response_model=ErasureOut, summary="Request an account's erasure",
             responses={404: {"description": "the account does not exist"}}, dependencies=[audited(action="erase")])
async def request_erasure(body: ErasureRequest, principal: Admin, svc: Service, request: Request,
                          response: Response) -> ErasureOut:
    """Every service erases or anonymises what it holds for the account. A request for an account whose
    erasure is still open answers that erasure."""
    note_audit(request, account_id=body.account_id)
    found = await erasures.request_erasure(svc, body.account_id, principal.sub)
    note_audit(request, erasure_id=found.erasure_id)
    response.headers["Location"] = f"/v1/privacy/erasures/{found.erasure_id}"
    return erasure_out(found)


@router.get("/erasures/{erasure_id}", response_model=ErasureOut, summary="An erasure's progress per service",
            dependencies=[audited()])
async def get_erasure(erasure_id: IdPath, _: Admin, svc: Service, request: Request) -> ErasureOut:
    found = await erasures.erasure(svc, erasure_id)
    if found is None:
        raise NotFound(f"erasure {erasure_id} does not exist")
    note_audit(request, account_id=found.account_id)
    return erasure_out(found)
