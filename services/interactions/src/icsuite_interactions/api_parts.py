"""Gateway routes for the parts of a record: notes, activities and attachments (all need a staff role).

Attachments are uploaded as ``multipart/form-data`` with one file part named ``file`` (its file name and
content type are taken from the part; an optional form field ``name`` overrides the file name).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.problems import NotFound, PayloadTooLarge, Problem
from icsuite_contracts.base import Id, ShortText

from .api import Svc, domain_errors, existing_record
from .domain.attachments import (
    AttachmentTooLarge,
    AttachmentTypeRefused,
    check_media_type,
    check_size,
    clean_name,
    normalize_media_type,
)
from .schemas import ActivityIn, NoteIn

router = APIRouter(prefix="/v1/interactions/{interaction_id}", tags=["interactions"])


def _one(items: list[dict[str, Any]], key: str, value: str, what: str) -> dict[str, Any]:
    for item in items:
        if item.get(key) == value:
            return item
    raise NotFound(f"no {what} {value} on this interaction", slug=f"{what}-not-found")


@router.post("/notes", status_code=201, summary="Add a note {type, language, text}")
async def add_note(interaction_id: Id, body: NoteIn, svc: Svc, principal: AnyStaff,
                   response: Response) -> dict[str, Any]:
    with domain_errors():
        note = await svc.commands.add_note(interaction_id, type=body.type, language=body.language, text=body.text,
                                           author=principal.sub)
    response.headers["Location"] = f"/v1/interactions/{interaction_id}/notes/{note.note_id}"
    return asdict(note)


@router.get("/notes", summary="The record's notes, oldest first")
async def list_notes(interaction_id: Id, svc: Svc, _: AnyStaff) -> dict[str, Any]:
    return {"items": (await existing_record(svc, interaction_id)).get("notes") or [], "next_cursor": None}


@router.get("/notes/{note_id}", summary="One note")
async def get_note(interaction_id: Id, note_id: Id, svc: Svc, _: AnyStaff) -> dict[str, Any]:
    return _one((await existing_record(svc, interaction_id)).get("notes") or [], "note_id", note_id, "note")


@router.post("/activities", status_code=201, summary="Record a business activity")
async def add_activity(interaction_id: Id, body: ActivityIn, svc: Svc, principal: AnyStaff,
                       response: Response) -> dict[str, Any]:
    with domain_errors():
        activity = await svc.commands.add_activity(interaction_id, kind=body.kind, details=body.details, at=body.at,
                                                   media_item_id=body.media_item_id, agent_id=principal.sub)
    response.headers["Location"] = f"/v1/interactions/{interaction_id}/activities/{activity.activity_id}"
    return {**asdict(activity), "details": dict(activity.details)}


@router.get("/activities", summary="The record's activities, in the order recorded")
async def list_activities(interaction_id: Id, svc: Svc, _: AnyStaff) -> dict[str, Any]:
    return {"items": (await existing_record(svc, interaction_id)).get("activities") or [], "next_cursor": None}


@router.get("/activities/{activity_id}", summary="One activity")
async def get_activity(interaction_id: Id, activity_id: Id, svc: Svc, _: AnyStaff) -> dict[str, Any]:
    items = (await existing_record(svc, interaction_id)).get("activities") or []
    return _one(items, "activity_id", activity_id, "activity")


@router.post("/attachments", status_code=201, summary="Attach a file (multipart/form-data, part `file`)")
async def add_attachment(interaction_id: Id, svc: Svc, principal: AnyStaff, response: Response,
                         file: Annotated[UploadFile, File(description="The content.")],
                         name: Annotated[ShortText | None, Form()] = None) -> dict[str, Any]:
    limit = svc.settings.attachment_max_bytes
    media_type = normalize_media_type(file.content_type)
    try:
        check_media_type(media_type, svc.settings.attachment_media_types)
        content = await file.read(limit + 1)
        check_size(len(content), limit)
    except AttachmentTypeRefused as exc:
        raise Problem(str(exc), status=415, title="Unsupported media type", slug="attachment-type-refused",
                      accepted=svc.settings.attachment_media_types) from None
    except AttachmentTooLarge as exc:
        raise PayloadTooLarge(str(exc), slug="attachment-too-large", limit_bytes=limit) from None
    with domain_errors():
        meta = await svc.commands.add_attachment(interaction_id, name=clean_name(name or file.filename, "attachment"),
                                                 media_type=media_type, content=content, agent_id=principal.sub)
    response.headers["Location"] = f"/v1/interactions/{interaction_id}/attachments/{meta.attachment_id}"
    return asdict(meta)


@router.get("/attachments/{attachment_id}", summary="An attachment's metadata")
async def get_attachment(interaction_id: Id, attachment_id: Id, svc: Svc, _: AnyStaff) -> dict[str, Any]:
    items = (await existing_record(svc, interaction_id)).get("attachments") or []
    meta = _one(items, "attachment_id", attachment_id, "attachment")
    return {k: v for k, v in meta.items() if k != "file_id"}


@router.get("/attachments/{attachment_id}/content", summary="An attachment's content",
            response_class=Response)
async def get_attachment_content(interaction_id: Id, attachment_id: Id, svc: Svc, _: AnyStaff) -> Response:
    items = (await existing_record(svc, interaction_id)).get("attachments") or []
    meta = _one(items, "attachment_id", attachment_id, "attachment")
    content = await svc.attachments.get(meta["file_id"])
    if content is None:
        raise NotFound(f"the content of attachment {attachment_id} is gone", slug="attachment-content-missing")
    return Response(content, media_type=meta["media_type"],
                    headers={"Content-Disposition": f'attachment; filename="{meta["name"]}"',
                             "X-Checksum-SHA256": meta["sha256"]})
