"""Customer data, duplicates (supervisors and administrators): the likely duplicate accounts, merging one into
another, and undoing a merge.

The identity gateway reports pairs of accounts sharing a number, an e-mail address, or a similar name at one
address; merging moves what belongs to the source onto the target, and an unmerge gives it back."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .gateways import Gateways, GatewayProblem
from .session import SupervisorUser, User
from .web import is_htmx, render

router = APIRouter(include_in_schema=False)
AccountForm = Annotated[str, Form(min_length=1, max_length=128)]
MergeId = Annotated[str, Path(max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
PAGE_SIZE = 20
REASONS = {"same_phone": "the same number", "same_email": "the same e-mail address",
           "similar_name_same_address": "a similar name at the same address"}


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


async def account_names(gw: Gateways, user: User, account_ids: list[str]) -> dict[str, str]:
    """The names of the accounts of the page; an account that cannot be read keeps only its id."""
    unique = list(dict.fromkeys(account_ids))

    async def name(account_id: str) -> str:
        try:
            account = await gw.call("identity", "GET", f"/v1/accounts/{quote(account_id, safe='')}", user.token)
        except GatewayProblem:
            return ""
        return str(account.get("name") or "")

    return dict(zip(unique, await asyncio.gather(*(name(a) for a in unique)), strict=True))


@router.get("/admin/customer-data/duplicates", response_class=HTMLResponse)
async def duplicates_page(request: Request, user: SupervisorUser,
                          cursor: Annotated[str, Query(max_length=512)] = "") -> Response:
    gw = gateways(request)
    page = await gw.call("identity", "GET", "/v1/accounts/duplicates", user.token,
                         params={"limit": PAGE_SIZE, "cursor": cursor})
    pairs = page.get("items") or []
    names = await account_names(gw, user, [a for pair in pairs for a in pair["account_ids"]])
    return render(request, "duplicates.html", active="customer-data", pairs=pairs, names=names,
                  next_cursor=page.get("next_cursor"), reasons=REASONS)


@router.post("/admin/customer-data/merges", response_class=HTMLResponse)
async def merge(request: Request, user: SupervisorUser, target_account_id: AccountForm,
                source_account_id: AccountForm) -> Response:
    target, source = target_account_id.strip(), source_account_id.strip()
    if target == source:
        raise GatewayProblem(422, "Invalid merge", "an account cannot be merged into itself", "desktop")
    merged = await gateways(request).call("identity", "POST", f"/v1/accounts/{quote(target, safe='')}/merges",
                                          user.token, json={"source_account_id": source})
    return _answer(request, merged)


@router.get("/admin/customer-data/merges/{merge_id}", response_class=HTMLResponse)
async def merge_page(request: Request, merge_id: MergeId, user: SupervisorUser) -> Response:
    found = await gateways(request).call("identity", "GET", f"/v1/merges/{merge_id}", user.token)
    return render(request, "merge.html", active="customer-data", merge=found)


@router.post("/admin/customer-data/merges/{merge_id}/unmerge", response_class=HTMLResponse)
async def unmerge(request: Request, merge_id: MergeId, user: SupervisorUser) -> Response:
    undone = await gateways(request).call("identity", "POST", f"/v1/merges/{merge_id}/unmerge", user.token)
    return _answer(request, undone)


def _answer(request: Request, merged: dict[str, Any]) -> Response:
    if is_htmx(request):
        return render(request, "partials/merge_status.html", merge=merged)
    return RedirectResponse(f"/admin/customer-data/merges/{quote(merged['merge_id'], safe='')}", status_code=303)
