"""Customer data (administrators): request the erasure of an account and follow it per service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .gateways import Gateways
from .session import AdminUser
from .web import is_htmx, render

router = APIRouter(include_in_schema=False)
ErasureId = Annotated[str, Path(max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


def _status(request: Request, erasure: dict[str, Any]) -> Response:
    return render(request, "partials/erasure_status.html", erasure=erasure)


def _page(request: Request, erasure: dict[str, Any] | None) -> Response:
    return render(request, "customer_data.html", active="admin", erasure=erasure)


@router.get("/admin/customer-data", response_class=HTMLResponse)
async def customer_data_page(request: Request, user: AdminUser) -> Response:
    return _page(request, None)


@router.post("/admin/customer-data/erasures", response_class=HTMLResponse)
async def request_erasure(request: Request, user: AdminUser,
                          account_id: Annotated[str, Form(min_length=1, max_length=128)]) -> Response:
    erasure = await gateways(request).call("identity", "POST", "/v1/privacy/erasures", user.token,
                                           json={"account_id": account_id.strip()})
    if is_htmx(request):
        return _status(request, erasure)
    return RedirectResponse(f"/admin/customer-data/erasures/{erasure['erasure_id']}", status_code=303)


@router.get("/admin/customer-data/erasures/{erasure_id}", response_class=HTMLResponse)
async def erasure_page(request: Request, erasure_id: ErasureId, user: AdminUser) -> Response:
    erasure = await gateways(request).call("identity", "GET", f"/v1/privacy/erasures/{erasure_id}", user.token)
    return _status(request, erasure) if is_htmx(request) else _page(request, erasure)
