"""A record's notes: add one, list them, read one."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Response
from icsuite_chassis.audit import audited
from icsuite_contracts.base import Id

from ..domain.errors import PartNotFound
from ..schemas import NoteIn
from .deps import ExistingRecord, Service, StaffActor

router = APIRouter(prefix="/v1/interactions/{interaction_id}/notes", tags=["notes"], dependencies=[audited()])


@router.post("", status_code=201, summary="Add a note {type, language, text}")
async def add_note(interaction_id: Id, body: NoteIn, service: Service, actor: StaffActor,
                   response: Response) -> dict[str, Any]:
    note = await service.commands.add_note(interaction_id, actor, type=body.type, language=body.language,
                                           text=body.text)
    response.headers["Location"] = f"/v1/interactions/{interaction_id}/notes/{note.note_id}"
    return asdict(note)


@router.get("", summary="The record's notes, oldest first")
async def list_notes(record: ExistingRecord) -> dict[str, Any]:
    return {"items": [asdict(n) for n in record.notes], "next_cursor": None}


@router.get("/{note_id}", summary="One note")
async def get_note(record: ExistingRecord, note_id: Id) -> dict[str, Any]:
    for note in record.notes:
        if note.note_id == note_id:
            return asdict(note)
    raise PartNotFound("note", note_id)
