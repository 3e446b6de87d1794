"""Premises and business agreements on pages of their own: find a premise by its address, open it or a
business agreement, and confirm it into the current contact without naming the account.

The identity gateway derives the account when exactly one owns the premise or agreement; when several do it
answers 409 with ``candidates``, and the agent picks one of them."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways, GatewayProblem
from .routes_contact import current_contact
from .session import CurrentUser, User
from .web import is_htmx, render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Query(max_length=200)]
ObjectId = Annotated[str, Path(min_length=1, max_length=128)]
IdForm = Annotated[str, Form(min_length=1, max_length=128)]
OptionalIdForm = Annotated[str, Form(max_length=128)]
KINDS = {"premise": ("premise_id", "/v1/premises/", "premise.html"),
         "business-agreement": ("business_agreement_id", "/v1/business-agreements/", "business_agreement.html")}


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


def seg(value: str) -> str:
    return quote(value, safe="")


@router.get("/premises", response_class=HTMLResponse)
async def premise_search(request: Request, user: CurrentUser, postcode: Text = "", street: Text = "",
                         city: Text = "", cursor: Annotated[str, Query(max_length=512)] = "") -> Response:
    criteria = {"postcode": postcode.strip(), "street": street.strip(), "city": city.strip()}
    page: dict[str, Any] | None = None
    if any(criteria.values()):
        if not criteria["postcode"]:
            raise GatewayProblem(422, "Postcode needed", "a premise is looked up by its postcode; add the "
                                 "street or the city to narrow it down", "desktop")
        page = await gateways(request).call("identity", "GET", "/v1/premises/search", user.token,
                                            params={**criteria, "cursor": cursor, "limit": 20})
    template = "partials/premise_results.html" if is_htmx(request) else "premises.html"
    return render(request, template, active="contact", criteria=criteria, page=page)


async def _detail_page(request: Request, user: User, kind: str, object_id: str, *, status: int = 200,
                       confirmed: dict[str, Any] | None = None, problem: GatewayProblem | None = None) -> Response:
    _, path, template = KINDS[kind]
    gw = gateways(request)
    found = await gw.call("identity", "GET", path + seg(object_id), user.token)
    current = await current_contact(gw, user)
    return render(request, template, status=status, active="contact", found=found, current=current, kind=kind,
                  object_id=object_id, confirmed=confirmed, problem=problem, candidates=_candidates(problem))


def _candidates(problem: GatewayProblem | None) -> list[str]:
    values = problem.extensions.get("candidates") if problem else None
    return [str(v) for v in values[:20]] if isinstance(values, list) else []


@router.get("/premises/{premise_id}", response_class=HTMLResponse)
async def premise_page(request: Request, premise_id: ObjectId, user: CurrentUser) -> Response:
    return await _detail_page(request, user, "premise", premise_id)


@router.get("/business-agreements/{business_agreement_id}", response_class=HTMLResponse)
async def agreement_page(request: Request, business_agreement_id: ObjectId, user: CurrentUser) -> Response:
    return await _detail_page(request, user, "business-agreement", business_agreement_id)


async def _confirm(request: Request, user: User, kind: str, object_id: str, contact_id: str,
                   account_id: str) -> Response:
    field, _, _ = KINDS[kind]
    body = {field: object_id, **({"account_id": account_id} if account_id else {})}
    try:
        context = await gateways(request).call("identity", "PUT", f"/v1/contacts/{seg(contact_id)}/context",
                                               user.token, json=body)
    except GatewayProblem as exc:
        if exc.status != 409 or not _candidates(exc):
            raise
        return await _confirm_answer(request, user, kind, object_id, contact_id, status=409, problem=exc)
    return await _confirm_answer(request, user, kind, object_id, contact_id, confirmed=context)


async def _confirm_answer(request: Request, user: User, kind: str, object_id: str, contact_id: str, *,
                          status: int = 200,
                          confirmed: dict[str, Any] | None = None, problem: GatewayProblem | None = None) -> Response:
    if is_htmx(request):
        return render(request, "partials/confirm_object.html", status=status, kind=kind, object_id=object_id,
                      confirmed=confirmed, problem=problem, candidates=_candidates(problem),
                      contact_id=contact_id)
    return await _detail_page(request, user, kind, object_id, status=status, confirmed=confirmed, problem=problem)


@router.post("/premises/{premise_id}/confirm", response_class=HTMLResponse)
async def confirm_premise(request: Request, premise_id: ObjectId, user: CurrentUser, contact_id: IdForm,
                          account_id: OptionalIdForm = "") -> Response:
    return await _confirm(request, user, "premise", premise_id, contact_id, account_id.strip())


@router.post("/business-agreements/{business_agreement_id}/confirm", response_class=HTMLResponse)
async def confirm_agreement(request: Request, business_agreement_id: ObjectId, user: CurrentUser,
                            contact_id: IdForm, account_id: OptionalIdForm = "") -> Response:
    return await _confirm(request, user, "business-agreement", business_agreement_id, contact_id, account_id.strip())
