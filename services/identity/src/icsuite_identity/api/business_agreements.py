"""Business agreements (contract accounts): one with its balance, bills, dunning, credit and premises."""

from __future__ import annotations

from fastapi import APIRouter, Request
from icsuite_chassis.audit import audited, note_audit
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.problems import NotFound

from ..schemas import BusinessAgreementDetail, agreement_detail
from .deps import IdPath, Service

router = APIRouter(prefix="/v1", tags=["business agreements"], dependencies=[audited()])


@router.get("/business-agreements/{business_agreement_id}", response_model=BusinessAgreementDetail,
            summary="A business agreement with its account and premises")
async def get_business_agreement(request: Request, business_agreement_id: IdPath, _: AnyStaff, svc: Service) -> BusinessAgreementDetail:
    agreement = await svc.reads.agreement(business_agreement_id)
    if agreement is None:
        raise NotFound(f"business agreement {business_agreement_id} does not exist")
    note_audit(request, account_id=agreement.account_id)
    return agreement_detail(agreement, await svc.reads.premises_under(business_agreement_id))
