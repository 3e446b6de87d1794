"""Accounts: search, create, the summary."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from icsuite_chassis.audit import audited, note_audit
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.pagination import CursorParam, InvalidCursor, Limit, Page, decode_cursor, encode_cursor
from icsuite_chassis.problems import NotFound

from .. import handlers
from ..domain.context import Actor
from ..domain.ranking import Position, SearchCriteria, page_after
from ..schemas import AccountOut, AccountSummary, CreateAccountRequest, SearchItem, account_out, search_item, summary_out
from .deps import IdPath, Postcode, Service, Text

router = APIRouter(prefix="/v1", tags=["accounts"],
                   dependencies=[audited("account_id", "business_agreement_id")])


@router.get("/accounts/search", response_model=Page[SearchItem], summary="Search accounts, best match first",
            responses={422: {"description": "no criterion, or a malformed phone number or e-mail address"}})
async def search_accounts(request: Request, _: AnyStaff, svc: Service, phone: Text = None, email: Text = None,
                          account_id: Text = None, business_agreement_id: Text = None, name: Text = None,
                          postcode: Postcode = None, street: Text = None, limit: Limit = 20,
                          cursor: CursorParam = None) -> Page[SearchItem]:
    criteria = SearchCriteria(phone=_plus_restored(phone), email=_plus_restored(email), account_id=account_id,
                              business_agreement_id=business_agreement_id, name=name, postcode=postcode,
                              street=street)
    position = _position(decode_cursor(cursor, required_keys=("t", "s", "a", "id")))
    ranked, accounts = await svc.search.search(criteria)
    items, last = page_after(ranked, position, limit)
    next_cursor = encode_cursor(dict(zip(("t", "s", "a", "id"), last, strict=True))) if last else None
    note_audit(request, account_ids=[c.account_id for c in items])
    return Page(items=[search_item(c, accounts[c.account_id]) for c in items], next_cursor=next_cursor)


def _plus_restored(value: str | None) -> str | None:
    """A ``+`` left unencoded in a query string arrives as a space (``?phone=+4930...``): put it back.
    Neither a phone number's leading character nor an e-mail address can be a space."""
    if value is None:
        return None
    text = value.strip()
    if value.startswith(" ") and text[:1].isdigit():
        return "+" + text
    return text.replace(" ", "+") if "@" in text else value


def _position(cursor: dict[str, Any] | None) -> Position | None:
    if cursor is None:
        return None
    t, s, a, account_id = cursor["t"], cursor["s"], cursor["a"], cursor["id"]
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (t, s))
    if not numbers or a not in (0, 1) or not isinstance(account_id, str):
        raise InvalidCursor()
    return (int(t), float(s), int(a), account_id)


@router.post("/accounts", status_code=201, response_model=AccountOut, summary="Create an account",
             responses={409: {"description": "a probable duplicate; `duplicates` names the existing accounts "
                                              "(send `allow_duplicate: true` to create it anyway)"},
                        403: {"description": "`contact_id` names a contact the caller does not handle"},
                        404: {"description": "`contact_id` names a contact no channel reported"}})
async def create_account(request: Request, body: CreateAccountRequest, principal: AnyStaff, svc: Service,
                         response: Response) -> AccountOut:
    command = handlers.CreateAccount(kind=body.kind, name=body.name, phones=list(body.phones),
                                     emails=list(body.emails),
                                     address=body.address.model_dump() if body.address else None,
                                     actor=Actor(principal.sub, supervisor=principal.has_any("supervisor", "admin")),
                                     allow_duplicate=body.allow_duplicate, contact_id=body.contact_id)
    account = await handlers.create_account(svc, command)
    response.headers["Location"] = f"/v1/accounts/{account.account_id}"
    note_audit(request, account_id=account.account_id, contact_id=body.contact_id)
    return AccountOut(**account_out(account))


@router.get("/accounts/{account_id}", response_model=AccountSummary, summary="The account summary")
async def get_account(account_id: IdPath, _: AnyStaff, svc: Service) -> AccountSummary:
    found = await svc.reads.summary(account_id)
    if found is None:
        raise NotFound(f"account {account_id} does not exist")
    return summary_out(found)
