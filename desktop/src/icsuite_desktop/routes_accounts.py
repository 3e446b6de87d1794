"""Creating an account from the identification panel, with the duplicate warning.

The identity gateway answers a likely duplicate with 409 and ``duplicates: [account_id]``; the agent sees
those accounts and may create the account anyway (``allow_duplicate``). With the current contact's id the
new account is linked to that contact's context as confirmed (``contact_id``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways, GatewayProblem
from .session import CurrentUser
from .web import render

router = APIRouter(include_in_schema=False)
Short = Annotated[str, Form(max_length=200)]


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


def account_body(form: dict[str, str]) -> dict[str, Any]:
    """The create request of the form: one number, one e-mail, the address when its street is given."""
    body: dict[str, Any] = {"kind": form["kind"], "name": form["name"].strip(),
                            "phones": [form["phone"].strip()] if form.get("phone", "").strip() else [],
                            "emails": [form["email"].strip()] if form.get("email", "").strip() else []}
    if form.get("street", "").strip():
        body["address"] = {"street": form["street"].strip(), "postcode": form.get("postcode", "").strip(),
                           "city": form.get("city", "").strip(), "country": form.get("country", "DE").strip().upper()}
    if form.get("contact_id"):
        body["contact_id"] = form["contact_id"]
    if form.get("allow_duplicate"):
        body["allow_duplicate"] = True
    return body


@router.post("/accounts", response_class=HTMLResponse)
async def create_account(request: Request, user: CurrentUser,
                         kind: Annotated[str, Form(pattern=r"^(person|organisation)$")],
                         name: Annotated[str, Form(min_length=1, max_length=200)], phone: Short = "",
                         email: Short = "", street: Short = "", postcode: Annotated[str, Form(max_length=16)] = "",
                         city: Short = "", country: Annotated[str, Form(max_length=2)] = "DE",
                         contact_id: Annotated[str, Form(max_length=128)] = "",
                         allow_duplicate: Annotated[str, Form(max_length=8)] = "") -> Response:
    form = {"kind": kind, "name": name, "phone": phone, "email": email, "street": street, "postcode": postcode,
            "city": city, "country": country or "DE", "contact_id": contact_id.strip(),
            "allow_duplicate": allow_duplicate}
    try:
        created = await gateways(request).call("identity", "POST", "/v1/accounts", user.token,
                                               json=account_body(form))
    except GatewayProblem as exc:
        duplicates = exc.extensions.get("duplicates")
        if exc.status != 409 or not isinstance(duplicates, list):
            raise
        return render(request, "partials/account_created.html", status=409, form=form,
                      duplicates=[str(d) for d in duplicates[:20]], detail=exc.detail)
    return render(request, "partials/account_created.html", created=created, form=form)
