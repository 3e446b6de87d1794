"""Administration of the customizing: reason profiles (callbacks) and permitted follow-up types (followups)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways, GatewayProblem
from .session import AdminUser
from .web import render

router = APIRouter(include_in_schema=False)
CodeForm = Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
OptionalCodeForm = Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")]
LanguageForm = Annotated[str, Form(max_length=35, pattern=r"^([A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*)?$")]
DayForm = Annotated[str, Form(max_length=120)]
FOLLOWUP_TYPES = ("phone_call", "email", "visit", "task", "service_order", "sales_order", "complaint")
MAX_FIELDS = 200
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


async def _profiles_page(request: Request, user: AdminUser, edit: str | None, *, status: int = 200,
                         message: str = "", problem: GatewayProblem | None = None,
                         form: dict[str, Any] | None = None) -> Response:
    profiles = await gateways(request).call("callbacks", "GET", "/v1/reason-profiles", user.token)
    chosen = form or next((p for p in profiles if p["reason_code"] == edit), None) or {}
    return render(request, "reason_profiles.html", status=status, active="admin", profiles=profiles, form=chosen,
                  message=message, problem=problem, days=DAYS, hours_text=hours_text,
                  typed=chosen.get("typed_hours") or typed_of(chosen.get("business_hours")))


@router.get("/admin/reason-profiles", response_class=HTMLResponse)
async def reason_profiles(request: Request, user: AdminUser,
                          edit: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    return await _profiles_page(request, user, edit)


def typed_hours(time_zone: Annotated[str, Form(max_length=64)] = "", mon: DayForm = "", tue: DayForm = "",
                wed: DayForm = "", thu: DayForm = "", fri: DayForm = "", sat: DayForm = "",
                sun: DayForm = "") -> dict[str, str]:
    """The business hours as typed: the time zone and one text per day."""
    return {"time_zone": time_zone, **dict(zip(DAYS, (mon, tue, wed, thu, fri, sat, sun), strict=True))}


@router.post("/admin/reason-profiles", response_class=HTMLResponse)
async def save_reason_profile(request: Request, user: AdminUser, reason_code: CodeForm, task_type: CodeForm,
                              queue: CodeForm, priority: Annotated[int, Form(ge=0, le=1000)],
                              sla_minutes: Annotated[int, Form(ge=1, le=43_200)],
                              max_attempts: Annotated[int, Form(ge=1, le=50)],
                              retry_delay_seconds: Annotated[float, Form(ge=0, le=604_800)],
                              hours: Annotated[dict[str, str], Depends(typed_hours)],
                              skill: OptionalCodeForm = "", language: LanguageForm = "",
                              description: Annotated[str, Form(max_length=500)] = "") -> Response:
    body: dict[str, Any] = {
        "task_type": task_type, "priority": priority, "sla_minutes": sla_minutes, "queue": queue,
        "skill": skill or None, "language": language or None, "max_attempts": max_attempts,
        "retry_delay_seconds": retry_delay_seconds, "description": description.strip() or None}
    try:
        body["business_hours"] = hours_from_form(hours["time_zone"], {day: hours[day] for day in DAYS})
        await gateways(request).call("callbacks", "PUT", f"/v1/reason-profiles/{reason_code}", user.token, json=body)
    except GatewayProblem as exc:
        if exc.status != 422:
            raise
        return await _profiles_page(request, user, None, status=422, problem=exc,
                                    form={**body, "reason_code": reason_code, "typed_hours": hours})
    return await _profiles_page(request, user, reason_code, message=f"Reason profile {reason_code} saved.")


def hours_from_form(time_zone: str, days: dict[str, str]) -> dict[str, Any] | None:
    """Business hours typed per day as ``08:00-12:00, 13:00-18:00`` (blank: closed); none at all: always open.

    Only the shape is read here; the callbacks service checks the zone and the clock times (422 naming them)."""
    typed = {day: text.strip() for day, text in days.items() if text.strip()}
    if not time_zone.strip() and not typed:
        return None
    if not time_zone.strip():
        raise GatewayProblem(422, "Invalid business hours", "name the time zone of the business hours, "
                             "for example Europe/Berlin", "desktop")
    return {"time_zone": time_zone.strip(),
            "days": {day: [_span(day, part) for part in text.split(",") if part.strip()] for day, text in typed.items()}}


def _span(day: str, text: str) -> list[str]:
    start, sep, end = text.strip().partition("-")
    if not sep or not start.strip() or not end.strip():
        raise GatewayProblem(422, "Invalid business hours", f"{day}: {text.strip()!r} is no interval; write "
                             "start-end as HH:MM-HH:MM, several separated by commas", "desktop")
    return [start.strip(), end.strip()]


def hours_text(spans: list[list[str]] | None) -> str:
    """The intervals of one day as the form shows them."""
    return ", ".join(f"{start}-{end}" for start, end in spans or [])


def typed_of(hours: dict[str, Any] | None) -> dict[str, str]:
    """Stored business hours as the form's fields."""
    if not hours:
        return {}
    return {"time_zone": hours.get("time_zone", ""), **{day: hours_text(hours["days"].get(day)) for day in DAYS}}


def types_from_form(form: dict[str, list[str]], prefix: str, keys: list[str]) -> dict[str, list[str]]:
    """``prefix:key`` checkbox groups as ``{key: [types]}``, only known types, in the catalogue's order."""
    return {key: [t for t in FOLLOWUP_TYPES if t in form.get(f"{prefix}:{key}", [])] for key in keys}


@router.get("/admin/followup-types", response_class=HTMLResponse)
async def followup_types(request: Request, user: AdminUser) -> Response:
    config = await gateways(request).call("followups", "GET", "/v1/config/followup-types", user.token)
    return render(request, "followup_types.html", active="admin", config=config, types=FOLLOWUP_TYPES)


@router.post("/admin/followup-types", response_class=HTMLResponse)
async def save_followup_types(request: Request, user: AdminUser) -> Response:
    form = await _form_lists(request)
    gw = gateways(request)
    current = await gw.call("followups", "GET", "/v1/config/followup-types", user.token)
    body = {"channels": types_from_form(form, "channel", list(current["channels"])),
            "source_types": types_from_form(form, "source", list(current["source_types"])),
            "version": int((form.get("version") or ["0"])[0] or 0)}
    config = await gw.call("followups", "PUT", "/v1/config/followup-types", user.token, json=body)
    return render(request, "followup_types.html", active="admin", config=config, types=FOLLOWUP_TYPES,
                  message=f"Saved as version {config['version']}.")


COPYABLE_FIELDS = ("account_id", "business_agreement_id", "premise_id", "reason_code")
SOURCE_TYPES = ("interaction", "service_ticket", "service_order", "complaint", "case")


def copy_rules_from_form(form: dict[str, list[str]]) -> dict[str, dict[str, list[str]]]:
    """Per source type: the checked fields and the note types typed as a comma-separated list."""
    rules: dict[str, dict[str, list[str]]] = {}
    for source in SOURCE_TYPES:
        fields = [f for f in COPYABLE_FIELDS if f in form.get(f"fields:{source}", [])]
        typed = (form.get(f"notes:{source}") or [""])[0]
        note_types = [t.strip() for t in typed.split(",") if t.strip()][:20]
        rules[source] = {"fields": fields, "note_types": note_types}
    return rules


async def _form_lists(request: Request) -> dict[str, list[str]]:
    raw = await request.form()
    if len(raw) > MAX_FIELDS:
        raise GatewayProblem(422, "Invalid input", "too many fields", "desktop")
    form: dict[str, list[str]] = {}
    for key, value in raw.multi_items():
        form.setdefault(key, []).append(str(value)[:500])
    return form


@router.get("/admin/copy-rules", response_class=HTMLResponse)
async def copy_rules(request: Request, user: AdminUser) -> Response:
    config = await gateways(request).call("followups", "GET", "/v1/config/copy-rules", user.token)
    return render(request, "copy_rules.html", active="admin", config=config, fields=COPYABLE_FIELDS,
                  sources=SOURCE_TYPES)


@router.post("/admin/copy-rules", response_class=HTMLResponse)
async def save_copy_rules(request: Request, user: AdminUser) -> Response:
    form = await _form_lists(request)
    version = (form.get("version") or ["0"])[0]
    body = {"source_types": copy_rules_from_form(form), "version": int(version) if version.isdigit() else 0}
    config = await gateways(request).call("followups", "PUT", "/v1/config/copy-rules", user.token, json=body)
    return render(request, "copy_rules.html", active="admin", config=config, fields=COPYABLE_FIELDS,
                  sources=SOURCE_TYPES, message=f"Saved as version {config['version']}.")
