"""HTTP gateway of the identity service: thin routes that parse, call a handler and shape the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.pagination import CursorParam, Limit, Page, decode_cursor, encode_cursor
from icsuite_chassis.problems import NotFound, Unprocessable, problem_response

from .domain.context import Mismatch
from .domain.normalize import InvalidInput
from .domain.ranking import CRITERIA, CriteriaError, Position, SearchCriteria, page_after
from .handlers import DuplicateAccount, IdentityHandlers, UnknownReference
from .schemas import (
    AccountOut,
    AccountSummary,
    ConfirmContextRequest,
    ContextOut,
    CreateAccountRequest,
    SearchItem,
    account_out,
    context_out,
    search_item,
    summary_out,
)

router = APIRouter(prefix="/v1", tags=["identity"])


def _handlers(request: Request) -> IdentityHandlers:
    return request.app.state.handlers  # type: ignore[no-any-return]


Handlers = Annotated[IdentityHandlers, Depends(_handlers)]
IdPath = Annotated[str, Path(min_length=1, max_length=128)]
Text = Annotated[str | None, Query(min_length=1, max_length=256)]


@router.get("/accounts/search", response_model=Page[SearchItem], summary="Search accounts, best match first",
            responses={422: {"description": "no criterion, or a malformed phone number or e-mail address"}})
async def search_accounts(_: AnyStaff, handlers: Handlers, phone: Text = None, email: Text = None,
                          account_id: Text = None, business_agreement_id: Text = None, name: Text = None,
                          postcode: Annotated[str | None, Query(min_length=1, max_length=16)] = None,
                          street: Text = None, limit: Limit = 20, cursor: CursorParam = None) -> Page[SearchItem]:
    criteria = SearchCriteria(phone=_plus_restored(phone), email=_plus_restored(email), account_id=account_id,
                              business_agreement_id=business_agreement_id, name=name, postcode=postcode,
                              street=street)
    position = _position(decode_cursor(cursor, required_keys=("t", "s", "a", "id")))
    ranked, docs = await handlers.queries.search(criteria)
    items, last = page_after(ranked, position, limit)
    next_cursor = encode_cursor(dict(zip(("t", "s", "a", "id"), last, strict=True))) if last else None
    return Page(items=[search_item(c, docs[c.account_id]) for c in items], next_cursor=next_cursor)


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
        raise Unprocessable("the cursor is malformed", slug="invalid-cursor")
    return (int(t), float(s), int(a), account_id)


@router.post("/accounts", status_code=201, response_model=AccountOut, summary="Create an account",
             responses={409: {"description": "a probable duplicate; `account_id` names it"}})
async def create_account(body: CreateAccountRequest, principal: AnyStaff, handlers: Handlers,
                         response: Response) -> AccountOut:
    doc = await handlers.create_account(kind=body.kind, name=body.name, phones=list(body.phones),
                                        emails=list(body.emails),
                                        address=body.address.model_dump() if body.address else None,
                                        created_by=principal.sub)
    response.headers["Location"] = f"/v1/accounts/{doc['_id']}"
    return AccountOut(**account_out(doc))


@router.get("/accounts/{account_id}", response_model=AccountSummary, summary="The account summary")
async def get_account(account_id: IdPath, _: AnyStaff, handlers: Handlers) -> AccountSummary:
    found = await handlers.queries.summary(account_id)
    if found is None:
        raise NotFound(f"account {account_id} does not exist")
    return summary_out(found)


@router.get("/contacts/{contact_id}/context", response_model=ContextOut,
            summary="The business object context of a contact")
async def get_context(contact_id: IdPath, _: AnyStaff, handlers: Handlers) -> ContextOut:
    doc = await handlers.repos.contexts.get(contact_id)
    if doc is None:
        raise NotFound(f"no business object context for contact {contact_id}")
    return context_out(doc)


@router.put("/contacts/{contact_id}/context", response_model=ContextOut,
            summary="Confirm account, business agreement and premise for a contact",
            responses={422: {"description": "unknown ids, or objects that do not belong together"}})
async def confirm_context(contact_id: IdPath, body: ConfirmContextRequest, principal: AnyStaff,
                          handlers: Handlers) -> ContextOut:
    doc = await handlers.confirm_context(contact_id, account_id=body.account_id,
                                         business_agreement_id=body.business_agreement_id,
                                         premise_id=body.premise_id, method=body.method, agent_id=principal.sub)
    return context_out(doc)


def install_error_mapping(app: FastAPI) -> None:
    """Problem details for the domain's refusals (registered next to the chassis's handlers)."""

    @app.exception_handler(InvalidInput)
    async def _invalid(request: Request, exc: InvalidInput) -> JSONResponse:
        return problem_response(request, status=422, title="Invalid value", slug=f"invalid-{exc.field}",
                                detail=exc.message, field=exc.field)

    @app.exception_handler(CriteriaError)
    async def _criteria(request: Request, exc: CriteriaError) -> JSONResponse:
        return problem_response(request, status=422, title="No usable search criterion", slug="search-criteria",
                                detail=f"{exc}; the criteria are: {', '.join(CRITERIA)}", criteria=list(CRITERIA))

    @app.exception_handler(UnknownReference)
    async def _unknown(request: Request, exc: UnknownReference) -> JSONResponse:
        return problem_response(request, status=422, title="Unknown reference", slug="unknown-reference",
                                detail=str(exc), field=exc.field)

    @app.exception_handler(Mismatch)
    async def _mismatch(request: Request, exc: Mismatch) -> JSONResponse:
        return problem_response(request, status=422, title="Objects do not belong together", slug="mismatch",
                                detail=exc.message, field=exc.field)

    @app.exception_handler(DuplicateAccount)
    async def _duplicate(request: Request, exc: DuplicateAccount) -> JSONResponse:
        return problem_response(request, status=409, title="Probable duplicate", slug="duplicate-account",
                                detail=str(exc), account_id=exc.account_id, reason=exc.reason)
