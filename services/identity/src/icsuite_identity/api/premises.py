"""Premises: search by address, and one premise with its accounts and business agreements."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from icsuite_chassis.audit import audited, note_audit
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.pagination import CursorParam, Limit, Page, decode_cursor, encode_cursor
from icsuite_chassis.problems import NotFound

from ..domain.masterdata import premise_matches
from ..repository.reads import get_many
from ..schemas import PremiseDetail, PremiseOut, premise_detail, premise_out
from .deps import IdPath, Service, Text

router = APIRouter(prefix="/v1", tags=["premises"], dependencies=[audited()])
RequiredPostcode = Annotated[str, Query(min_length=1, max_length=16)]


@router.get("/premises/search", response_model=Page[PremiseOut], summary="Premises at an address",
            responses={422: {"description": "no postcode"}})
async def search_premises(_: AnyStaff, svc: Service, postcode: RequiredPostcode, street: Text = None,
                          city: Text = None, limit: Limit = 20, cursor: CursorParam = None) -> Page[PremiseOut]:
    after = (decode_cursor(cursor, required_keys=("id",)) or {}).get("id")
    found = [p for p in await svc.reads.premises_in(postcode) if premise_matches(p, street, city)]
    page = [p for p in found if after is None or p.premise_id > str(after)][:limit + 1]
    more = len(page) > limit
    next_cursor = encode_cursor({"id": page[limit - 1].premise_id}) if more else None
    return Page(items=[premise_out(p) for p in page[:limit]], next_cursor=next_cursor)


@router.get("/premises/{premise_id}", response_model=PremiseDetail,
            summary="A premise with its accounts and business agreements")
async def get_premise(request: Request, premise_id: IdPath, _: AnyStaff, svc: Service) -> PremiseDetail:
    premise = await svc.reads.premise(premise_id)
    if premise is None:
        raise NotFound(f"premise {premise_id} does not exist")
    note_audit(request, account_ids=list(premise.account_ids))
    accounts = await get_many(svc.stores.accounts, premise.account_ids)
    agreements = await get_many(svc.stores.agreements, premise.business_agreement_ids)
    return premise_detail(premise, [accounts[i] for i in premise.account_ids if i in accounts],
                          [agreements[i] for i in premise.business_agreement_ids if i in agreements])
