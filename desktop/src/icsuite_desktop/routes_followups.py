"""Follow-ups from the interaction record: create one (only the permitted types, with dates, reason, notes
and the record's scratch pad imported), and a follow-up's page: change it, its notes history, add a note."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways
from .routes_history import utc_moment
from .routes_record import Code, Language, OptionalCode, _record_section
from .session import CurrentUser, User
from .web import render

router = APIRouter(include_in_schema=False)
DateForm = Annotated[str, Form(max_length=32)]
STATUSES = ("open", "in_process", "completed", "cancelled")
NOTE_TYPES = ("note", "report", "preparation", "business_partner_information", "correspondence", "internal")
DATES = ("planned_start", "planned_end", "due_at")


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


def followup_body(record: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """The follow-up of a record: its account, business agreement and premise, the form's dates, reason and
    note, and the record's scratch pad imported as a note when the agent chose so."""
    body: dict[str, Any] = {"source": {"type": "interaction", "id": record["interaction_id"]},
                            "type": form["type"], "channel": record.get("channel") or "phone",
                            "account_id": record.get("account_id"),
                            "business_agreement_id": record.get("business_agreement_id"),
                            "premise_id": record.get("premise_id"),
                            "reason_code": form.get("reason_code") or None}
    body.update({name: utc_moment(form.get(name)) for name in DATES})
    if form.get("note", "").strip():
        body["notes"] = [{"type": "note", "language": form.get("language") or "de", "text": form["note"].strip()}]
    pad = ((record.get("scratch_pad") or {}).get("text") or "").strip()
    if form.get("import_scratch_pad") and pad:
        body["scratch_pad"] = {"text": pad, "note_type": "note"}
    return {k: v for k, v in body.items() if v is not None}


@router.post("/interactions/{interaction_id}/followups", response_class=HTMLResponse)
async def create_followup(request: Request, interaction_id: str, user: CurrentUser, type: Code,
                          planned_start: DateForm = "", planned_end: DateForm = "", due_at: DateForm = "",
                          reason_code: OptionalCode = "", note: Annotated[str, Form(max_length=4000)] = "",
                          import_scratch_pad: Annotated[str, Form(max_length=8)] = "") -> Response:
    gw = gateways(request)
    record = await gw.call("interactions", "GET", f"/v1/interactions/{interaction_id[:128]}", user.token)
    form = {"type": type, "planned_start": planned_start, "planned_end": planned_end, "due_at": due_at,
            "reason_code": reason_code, "note": note, "import_scratch_pad": import_scratch_pad}
    created = await gw.call("followups", "POST", "/v1/followups", user.token, json=followup_body(record, form))
    return await _record_section(request, user, interaction_id, f"Follow-up {created['followup_id']} created.")


def _followup_path(followup_id: str, tail: str = "") -> str:
    return f"/v1/followups/{followup_id[:128]}{tail}"


async def _followup_view(request: Request, user: User, followup_id: str, message: str = "",
                         partial: bool = True) -> Response:
    followup = await gateways(request).call("followups", "GET", _followup_path(followup_id), user.token)
    template = "partials/followup.html" if partial else "followup.html"
    return render(request, template, active="contact", followup=followup, statuses=STATUSES,
                  note_types=NOTE_TYPES, message=message)


@router.get("/followups/{followup_id}", response_class=HTMLResponse)
async def followup_page(request: Request, followup_id: str, user: CurrentUser) -> Response:
    return await _followup_view(request, user, followup_id, partial=False)


def followup_patch(form: dict[str, str]) -> dict[str, Any]:
    """The change of the edit form: status, dates (empty clears one), priority, reason; the owner when given."""
    patch: dict[str, Any] = {"status": form["status"], "priority": int(form["priority"]),
                             "reason_code": form.get("reason_code") or None}
    patch.update({name: utc_moment(form.get(name)) for name in DATES})
    if form.get("owner_id"):
        patch["owner_id"] = form["owner_id"]
    return patch


@router.post("/followups/{followup_id}", response_class=HTMLResponse)
async def change_followup(request: Request, followup_id: str, user: CurrentUser,
                          status: Annotated[str, Form(pattern=r"^(open|in_process|completed|cancelled)$")],
                          priority: Annotated[int, Form(ge=0, le=9)], planned_start: DateForm = "",
                          planned_end: DateForm = "", due_at: DateForm = "", reason_code: OptionalCode = "",
                          owner_id: Annotated[str, Form(max_length=128)] = "") -> Response:
    form = {"status": status, "priority": str(priority), "planned_start": planned_start, "planned_end": planned_end,
            "due_at": due_at, "reason_code": reason_code, "owner_id": owner_id.strip()}
    await gateways(request).call("followups", "PATCH", _followup_path(followup_id), user.token,
                                 json=followup_patch(form))
    return await _followup_view(request, user, followup_id, "Follow-up saved.")


@router.post("/followups/{followup_id}/notes", response_class=HTMLResponse)
async def add_followup_note(request: Request, followup_id: str, user: CurrentUser, type: Code, language: Language,
                            text: Annotated[str, Form(min_length=1, max_length=10_000)]) -> Response:
    await gateways(request).call("followups", "POST", _followup_path(followup_id, "/notes"), user.token,
                                 json={"type": type, "language": language, "text": text})
    return await _followup_view(request, user, followup_id, "Note added to the history.")
