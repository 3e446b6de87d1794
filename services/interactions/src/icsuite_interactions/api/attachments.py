"""A record's attachments: upload (multipart/form-data, file part ``file``), metadata, content."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from icsuite_chassis.audit import audited
from icsuite_chassis.problems import NotFound, PayloadTooLarge, Problem
from icsuite_contracts.base import Id, ShortText

from ..domain.attachments import clean_name, content_disposition, normalize_media_type
from ..domain.errors import PartNotFound
from ..domain.record import Attachment, Record
from .deps import ExistingRecord, Service, StaffActor
from .views import attachment_view

router = APIRouter(prefix="/v1/interactions/{interaction_id}/attachments", tags=["attachments"],
                   dependencies=[audited()])


@router.post("", status_code=201, summary="Attach a file (multipart/form-data, part `file`)")
async def add_attachment(interaction_id: Id, service: Service, actor: StaffActor, response: Response,
                         file: Annotated[UploadFile, File(description="The content.")],
                         name: Annotated[ShortText | None, Form()] = None) -> dict[str, Any]:
    settings = service.settings
    media_type = normalize_media_type(file.content_type)
    if media_type not in settings.attachment_media_types:
        raise Problem(f"media type {media_type!r} is not accepted", status=415, title="Unsupported media type",
                      slug="attachment-type-refused", accepted=settings.attachment_media_types)
    content = await file.read(settings.attachment_max_bytes + 1)
    if len(content) > settings.attachment_max_bytes:
        raise PayloadTooLarge(f"the attachment is larger than {settings.attachment_max_bytes} bytes",
                              slug="attachment-too-large", limit_bytes=settings.attachment_max_bytes)
    attachment = await service.commands.add_attachment(
        interaction_id, actor, name=clean_name(name or file.filename, "attachment"), media_type=media_type,
        content=content)
    response.headers["Location"] = f"/v1/interactions/{interaction_id}/attachments/{attachment.attachment_id}"
    return attachment_view(asdict(attachment))


def _attachment(record: Record, attachment_id: str) -> Attachment:
    for attachment in record.attachments:
        if attachment.attachment_id == attachment_id:
            return attachment
    raise PartNotFound("attachment", attachment_id)


@router.get("/{attachment_id}", summary="An attachment's metadata")
async def get_attachment(record: ExistingRecord, attachment_id: Id) -> dict[str, Any]:
    return attachment_view(asdict(_attachment(record, attachment_id)))


@router.get("/{attachment_id}/content", summary="An attachment's content", response_class=Response)
async def get_attachment_content(record: ExistingRecord, attachment_id: Id, service: Service) -> Response:
    attachment = _attachment(record, attachment_id)
    content = await service.attachments.get(attachment.file_id)
    if content is None:
        raise NotFound(f"the content of attachment {attachment_id} is gone", slug="attachment-content-missing")
    return Response(content, media_type=attachment.media_type,
                    headers={"Content-Disposition": content_disposition(attachment.name),
                             "X-Checksum-SHA256": attachment.sha256})
