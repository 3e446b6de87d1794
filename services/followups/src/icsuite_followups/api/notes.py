"""A follow-up's notes history: append, list (filtered), read one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from icsuite_chassis.audit import audited
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.pagination import CursorParam, InvalidCursor, Limit, decode_cursor, encode_cursor
from icsuite_contracts.followups_v1 import FollowupNoteType

from .. import handlers
from ..domain import NoteNotFound, filter_notes, normalize_language
from ..schemas import NoteIn, NoteOut, NotePage
from . import representations as rep
from .deps import ServiceDep, Staff

router = APIRouter(prefix="/followups/{followup_id}/notes", tags=["notes"], dependencies=[audited()])


@router.post("", status_code=201, response_model=NoteOut)
async def add_note(followup_id: str, body: NoteIn, response: Response, svc: ServiceDep, agent: Staff) -> NoteOut:
    note = await handlers.add_note(svc, followup_id, rep.note_draft(body), author=agent.sub)
    response.headers["Location"] = f"/v1/followups/{followup_id}/notes/{note.note_id}"
    return rep.note_out(note)


@router.get("", response_model=NotePage)
async def list_notes(followup_id: str, svc: ServiceDep, _: AnyStaff, limit: Limit = 50,
                     cursor: CursorParam = None, type: FollowupNoteType | None = None,
                     author: Annotated[str | None, Query(max_length=128)] = None,
                     language: Annotated[str | None, Query(max_length=35)] = None) -> NotePage:
    """The notes history in the order it was written, filtered; the cursor is a position in the history."""
    position = decode_cursor(cursor, required_keys=("p",))
    after = position["p"] if position else -1
    if not isinstance(after, int):
        raise InvalidCursor()
    if language is not None and language != "*":
        language = normalize_language(language)
    history = (await handlers.get_followup(svc, followup_id)).notes
    chosen = set(map(id, filter_notes(history, type=type, author=author, language=language)))
    page = [(i, n) for i, n in enumerate(history) if i > after and id(n) in chosen]
    more, page = len(page) > limit, page[:limit]
    return NotePage(items=[rep.note_out(n) for _, n in page],
                    next_cursor=encode_cursor({"p": page[-1][0]}) if more and page else None)


@router.get("/{note_id}", response_model=NoteOut)
async def get_note(followup_id: str, note_id: str, svc: ServiceDep, _: AnyStaff) -> NoteOut:
    for note in (await handlers.get_followup(svc, followup_id)).notes:
        if note.note_id == note_id:
            return rep.note_out(note)
    raise NoteNotFound(followup_id, note_id)
