"""The agent's contact view: the current contact, identification, the account summary, confirmation."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways, GatewayProblem
from .session import CurrentUser, User
from .web import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Query(max_length=256)]
IdForm = Annotated[str, Form(min_length=1, max_length=128)]
OptionalIdForm = Annotated[str, Form(max_length=128)]
SEARCH_FIELDS = ("phone", "email", "account_id", "business_agreement_id", "name", "postcode", "street")


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


@router.get("/", response_class=HTMLResponse)
async def contact_page(request: Request, user: CurrentUser) -> Response:
    return render(request, "contact.html", active="contact")


async def current_contact(gw: Gateways, user: User) -> dict[str, Any] | None:
    """The newest open interaction record of the user, with its contact's business object context."""
    page = await gw.call("interactions", "GET", "/v1/interactions", user.token,
                         params={"status": "open", "limit": 1})
    items = page.get("items") or []
    if not items:
        return None
    record = items[0]
    context = None
    if record.get("contact_id"):
        try:
            context = await gw.call("identity", "GET", f"/v1/contacts/{record['contact_id']}/context", user.token)
        except GatewayProblem as exc:
            if exc.status != 404:
                raise
    return {"record": record, "context": context}


def version_of(current: dict[str, Any] | None) -> str:
    if current is None:
        return "none"
    record, context = current["record"], current["context"] or {}
    key = [record.get("interaction_id"), record.get("account_id"), context.get("account_id"),
           context.get("confirmed"), context.get("candidates"), (context.get("identification") or {}).get("outcome")]
    return hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:16]


@router.get("/fragments/current-contact", response_class=HTMLResponse)
async def current_contact_fragment(request: Request, user: CurrentUser, seen: Text = None) -> Response:
    current = await current_contact(gateways(request), user)
    version = version_of(current)
    if seen == version:
        return Response(status_code=204)
    return render(request, "partials/current_contact.html", current=current, version=version)


@router.get("/fragments/search", response_class=HTMLResponse)
async def search(request: Request, user: CurrentUser, phone: Text = None, email: Text = None,
                 account_id: Text = None, business_agreement_id: Text = None, name: Text = None,
                 postcode: Text = None, street: Text = None, contact_id: Text = None) -> Response:
    criteria = {"phone": phone, "email": email, "account_id": account_id,
                "business_agreement_id": business_agreement_id, "name": name, "postcode": postcode,
                "street": street}
    criteria = {k: v.strip() for k, v in criteria.items() if v and v.strip()}
    page = await gateways(request).call("identity", "GET", "/v1/accounts/search", user.token,
                                        params={**criteria, "limit": 20})
    return render(request, "partials/search_results.html", items=page.get("items") or [],
                  contact_id=contact_id or "")


async def planned_followups(gw: Gateways, user: User, account_id: str) -> list[dict[str, Any]] | GatewayProblem:
    """The account's planned follow-ups (open or in process); the summary stays usable without followups."""
    try:
        page = await gw.call("followups", "GET", f"/v1/accounts/{account_id[:128]}/followups", user.token,
                             params={"status": "planned", "limit": 10})
    except GatewayProblem as exc:
        return exc
    return page.get("items") or []  # type: ignore[no-any-return]


async def _summary(request: Request, user: User, account_id: str, contact_id: str,
                   context: dict[str, Any] | None) -> Response:
    gw = gateways(request)
    summary, followups = await asyncio.gather(
        gw.call("identity", "GET", f"/v1/accounts/{account_id[:128]}", user.token),
        planned_followups(gw, user, account_id))
    return render(request, "partials/account.html", account=summary, contact_id=contact_id, context=context,
                  followups=followups)


@router.get("/fragments/accounts/{account_id}", response_class=HTMLResponse)
async def account_summary(request: Request, account_id: str, user: CurrentUser, contact_id: Text = None) -> Response:
    if len(account_id) > 128:
        return Response(status_code=404)
    context = None
    if contact_id:
        try:
            context = await gateways(request).call("identity", "GET", f"/v1/contacts/{contact_id}/context",
                                                   user.token)
        except GatewayProblem as exc:
            if exc.status != 404:
                raise
    return await _summary(request, user, account_id, contact_id or "", context)


@router.post("/contacts/{contact_id}/context", response_class=HTMLResponse)
async def confirm(request: Request, contact_id: str, user: CurrentUser, account_id: IdForm,
                  business_agreement_id: OptionalIdForm = "", premise_id: OptionalIdForm = "") -> Response:
    body = {"account_id": account_id, "business_agreement_id": business_agreement_id or None,
            "premise_id": premise_id or None}
    context = await gateways(request).call("identity", "PUT", f"/v1/contacts/{contact_id[:128]}/context",
                                           user.token, json=body)
    return await _summary(request, user, account_id, contact_id, context)
