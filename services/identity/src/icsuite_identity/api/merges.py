"""Duplicate accounts: the report of likely duplicate pairs, merging one into another, and undoing it
(supervisors and administrators)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from icsuite_chassis.audit import audited, note_audit
from icsuite_chassis.auth import Supervisor
from icsuite_chassis.pagination import CursorParam, Limit, Page, decode_cursor, encode_cursor
from icsuite_chassis.problems import NotFound
from pydantic import BaseModel, ConfigDict, Field

from ..domain.merges import AccountMerge
from ..handlers import merges
from .deps import IdPath, Service

router = APIRouter(tags=["merges"], dependencies=[audited()])


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_account_id: str = Field(min_length=1, max_length=128,
                                   description="The duplicate account to merge into the path's account.")


class MergeOut(BaseModel):
    merge_id: str
    source_account_id: str
    target_account_id: str
    status: str = Field(description="`merged`, or `unmerged` once undone.")
    merged_by: str
    merged_at: datetime
    unmerged_by: str | None = None
    unmerged_at: datetime | None = None


class DuplicatePairOut(BaseModel):
    account_ids: list[str] = Field(description="The two accounts, in id order.")
    reason: str = Field(description="`same_phone`, `same_email` or `similar_name_same_address`.")
    key: str = Field(description="What they share: the lookup key of the number, e-mail address or postcode.")


def merge_out(merge: AccountMerge) -> MergeOut:
    return MergeOut(**{name: getattr(merge, name) for name in MergeOut.model_fields})


@router.get("/v1/accounts/duplicates", response_model=Page[DuplicatePairOut], summary="Likely duplicate accounts")
async def duplicate_report(_: Supervisor, svc: Service, limit: Limit = 50,
                           cursor: CursorParam = None) -> Page[DuplicatePairOut]:
    """Pairs of accounts that are probably the same customer: the same phone number, the same e-mail address,
    or a similar name at the same address. Accounts already merged are left out."""
    position = decode_cursor(cursor, required_keys=("after",))
    page = await merges.duplicate_report(svc, position["after"] if position else None, limit)
    items = [DuplicatePairOut(account_ids=list(p.account_ids), reason=p.reason, key=p.key) for p in page.pairs]
    return Page(items=items, next_cursor=encode_cursor({"after": page.next_cursor}) if page.next_cursor else None)


@router.post("/v1/accounts/{account_id}/merges", status_code=201, response_model=MergeOut,
             summary="Merge a duplicate account into this one",
             responses={404: {"description": "an account does not exist"},
                        409: {"description": "an account is merged already, or has accounts merged into it"}})
async def merge_into(account_id: IdPath, body: MergeRequest, principal: Supervisor, svc: Service,
                     request: Request, response: Response) -> MergeOut:
    """What belongs to the source (interactions, follow-ups, callbacks, alerts) follows this account; the
    source's numbers and addresses find this account. A repeated request answers the same merge."""
    note_audit(request, account_ids=[account_id, body.source_account_id])
    merge = await merges.merge_accounts(svc, account_id, body.source_account_id, principal.sub)
    note_audit(request, merge_id=merge.merge_id)
    response.headers["Location"] = f"/v1/merges/{merge.merge_id}"
    return merge_out(merge)


@router.get("/v1/merges/{merge_id}", response_model=MergeOut, summary="A merge: who merged, when, and its undoing")
async def get_merge(merge_id: IdPath, _: Supervisor, svc: Service, request: Request) -> MergeOut:
    found = await merges.merge(svc, merge_id)
    if found is None:
        raise NotFound(f"merge {merge_id} does not exist")
    note_audit(request, account_ids=[found.target_account_id, found.source_account_id])
    return merge_out(found)


@router.post("/v1/merges/{merge_id}/unmerge", response_model=MergeOut, summary="Undo a merge",
             responses={404: {"description": "the merge does not exist"}})
async def unmerge(merge_id: IdPath, principal: Supervisor, svc: Service, request: Request) -> MergeOut:
    """The source is itself again; exactly what the merge moved goes back to it (what was created for the
    surviving account since stays there). Undoing an undone merge changes nothing."""
    undone = await merges.unmerge(svc, merge_id, principal.sub)
    note_audit(request, account_ids=[undone.target_account_id, undone.source_account_id])
    return merge_out(undone)
