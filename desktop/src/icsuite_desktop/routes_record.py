"""The interaction record: media items and segments, activities, notes, attachments, completing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from .gateways import Gateways, GatewayProblem, problem_of
from .session import CurrentUser, User
from .web import render

router = APIRouter(include_in_schema=False)
Code = Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
OptionalCode = Annotated[str, Form(max_length=64, pattern=r"^[A-Za-z0-9_.:-]*$")]
Language = Annotated[str, Form(min_length=2, max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
NOTE_TYPES = ("note", "internal", "customer_statement", "resolution")
MEDIA = ("phone", "email", "fax", "chat", "web", "sms", "letter", "walk_in")
MAX_DETAILS = 20


def gateways(request: Request) -> Gateways:
    return request.app.state.gateways  # type: ignore[no-any-return]


def _path(interaction_id: str, tail: str = "") -> str:
    return f"/v1/interactions/{interaction_id[:128]}{tail}"


async def record_context(gw: Gateways, user: User, interaction_id: str) -> dict[str, Any]:
    """The record, its follow-ups and the follow-up types permitted for its channel and source."""
    record = await gw.call("interactions", "GET", _path(interaction_id), user.token)
    followups, permitted, problem = [], [], None
    try:
        listed = await gw.call("followups", "GET", f"/v1/sources/interaction/{record['interaction_id']}/followups",
                               user.token, params={"limit": 50})
        followups = listed.get("items") or []
        types = await gw.call("followups", "GET", "/v1/config/followup-types", user.token)
        permitted = permitted_types(types, record.get("channel"), "interaction")
    except GatewayProblem as exc:  # the record stays usable when the followups service is away
        problem = exc
    return {"record": record, "followups": followups, "permitted_types": permitted,
            "followups_problem": problem, "note_types": NOTE_TYPES, "media_kinds": MEDIA}


def permitted_types(config: dict[str, Any], channel: str | None, source_type: str) -> list[str]:
    """The follow-up types permitted both for the record's channel and for the source type."""
    by_channel = set((config.get("channels") or {}).get(channel or "", []))
    by_source = (config.get("source_types") or {}).get(source_type, [])
    return [t for t in by_source if t in by_channel]


@router.get("/interactions/{interaction_id}", response_class=HTMLResponse)
async def record_page(request: Request, interaction_id: str, user: CurrentUser) -> Response:
    context = await record_context(gateways(request), user, interaction_id)
    return render(request, "record.html", active="contact", **context)


async def _record_section(request: Request, user: User, interaction_id: str, message: str = "") -> Response:
    context = await record_context(gateways(request), user, interaction_id)
    return render(request, "partials/record.html", message=message, **context)


@router.post("/interactions/{interaction_id}/notes", response_class=HTMLResponse)
async def add_note(request: Request, interaction_id: str, user: CurrentUser, type: Code, language: Language,
                   text: Annotated[str, Form(min_length=1, max_length=10_000)]) -> Response:
    await gateways(request).call("interactions", "POST", _path(interaction_id, "/notes"), user.token,
                                 json={"type": type, "language": language, "text": text})
    return await _record_section(request, user, interaction_id, "Note added.")


@router.post("/interactions/{interaction_id}/scratch-pad", response_class=HTMLResponse)
async def write_scratch_pad(request: Request, interaction_id: str, user: CurrentUser,
                            text: Annotated[str, Form(min_length=1, max_length=10_000)]) -> Response:
    await gateways(request).call("interactions", "PUT", _path(interaction_id, "/scratch-pad"), user.token,
                                 json={"text": text})
    return await _record_section(request, user, interaction_id, "Scratch pad saved.")


@router.post("/interactions/{interaction_id}/media-items", response_class=HTMLResponse)
async def add_media_item(request: Request, interaction_id: str, user: CurrentUser, media: Code,
                         direction: Annotated[str, Form(pattern=r"^(inbound|outbound)$")]) -> Response:
    await gateways(request).call("interactions", "POST", _path(interaction_id, "/media-items"), user.token,
                                 json={"media": media, "direction": direction})
    return await _record_section(request, user, interaction_id, f"Media item {media} added.")


def parse_details(text: str) -> dict[str, str]:
    """``key=value`` lines of an activity form; blank lines are skipped, a line without ``=`` is refused."""
    details: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"'{line.strip()[:40]}' is not key=value")
        details[key.strip()] = value.strip()
    if len(details) > MAX_DETAILS:
        raise ValueError(f"at most {MAX_DETAILS} details")
    return details


@router.post("/interactions/{interaction_id}/activities", response_class=HTMLResponse)
async def add_activity(request: Request, interaction_id: str, user: CurrentUser, kind: Code,
                       details: Annotated[str, Form(max_length=4000)] = "") -> Response:
    try:
        parsed = parse_details(details)
    except ValueError as exc:
        raise GatewayProblem(422, "Invalid details", f"activity details: {exc}", "desktop") from None
    await gateways(request).call("interactions", "POST", _path(interaction_id, "/activities"), user.token,
                                 json={"kind": kind, "details": parsed})
    return await _record_section(request, user, interaction_id, "Activity recorded.")


@router.post("/interactions/{interaction_id}/attachments", response_class=HTMLResponse)
async def add_attachment(request: Request, interaction_id: str, user: CurrentUser,
                         file: Annotated[UploadFile, File()]) -> Response:
    content = await file.read()
    name = (file.filename or "attachment")[:200]
    files = {"file": (name, content, file.content_type or "application/octet-stream")}
    await gateways(request).call("interactions", "POST", _path(interaction_id, "/attachments"), user.token,
                                 files=files)
    return await _record_section(request, user, interaction_id, f"Attached {name}.")


@router.get("/interactions/{interaction_id}/attachments/{attachment_id}")
async def download(request: Request, interaction_id: str, attachment_id: str, user: CurrentUser) -> Response:
    response = await gateways(request).send("interactions", "GET",
                                            _path(interaction_id, f"/attachments/{attachment_id[:128]}/content"),
                                            user.token)
    if response.status_code >= 400:
        raise problem_of("interactions", response)
    # always a download, never a page of the desktop's origin (an uploaded file may be HTML)
    disposition = response.headers.get("content-disposition", "attachment")
    if disposition.lower().startswith("inline"):
        disposition = "attachment" + disposition[len("inline"):]
    headers = {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "sandbox"}
    return Response(response.content, media_type=response.headers.get("content-type"), headers=headers)


@router.post("/interactions/{interaction_id}/complete", response_class=HTMLResponse)
async def complete(request: Request, interaction_id: str, user: CurrentUser, outcome: Code,
                   result: OptionalCode = "", reason_code: OptionalCode = "") -> Response:
    body = {"outcome": outcome, "result": result or None, "reason_code": reason_code or None}
    await gateways(request).call("interactions", "POST", _path(interaction_id, "/complete"), user.token, json=body)
    return await _record_section(request, user, interaction_id, "Completed: the record is closed and read-only.")
