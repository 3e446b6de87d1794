"""Customer data, data-subject export (administrators): the customer's copy of everything the suite holds about
an account, as one zip, and the record of each export in identity's audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .gateways import Gateways
from .session import AdminUser
from .subject_export import export_account, safe_name
from .web import render

router = APIRouter(include_in_schema=False)
ExportId = Annotated[str, Path(max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


@router.get("/admin/customer-data/exports", response_class=HTMLResponse)
async def exports_page(request: Request, user: AdminUser,
                       export_id: Annotated[str, Query(max_length=128, pattern=r"^[A-Za-z0-9._:-]*$")] = "") -> Response:
    if export_id:
        return RedirectResponse(f"/admin/customer-data/exports/{export_id}", status_code=303)
    return render(request, "exports.html", active="customer-data", record=None)


@router.post("/admin/customer-data/exports")
async def build_export(request: Request, user: AdminUser,
                       account_id: Annotated[str, Form(min_length=1, max_length=128,
                                                       pattern=r"^[^\x00-\x1f\x7f/\\]+$")]) -> Response:
    """The zip as a download, once identity has recorded the export; its id is in the manifest and a header."""
    content, manifest = await export_account(gateways(request), user.token, account_id.strip())
    name = f"export-{safe_name(account_id.strip())}.zip"
    return Response(content, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Export-Id": manifest["export_id"], "Cache-Control": "no-store"})


@router.get("/admin/customer-data/exports/{export_id}", response_class=HTMLResponse)
async def export_record(request: Request, export_id: ExportId, user: AdminUser) -> Response:
    record = await gateways(request).call("identity", "GET", f"/v1/privacy/exports/{export_id}", user.token)
    return render(request, "exports.html", active="customer-data", record=record)
