"""HTTP gateway of the followups service: thin routes that parse, call the service and answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from icsuite_chassis.auth import Admin, AnyStaff, Principal
from icsuite_chassis.pagination import CursorParam, Limit, decode_cursor, encode_cursor
from icsuite_chassis.problems import NotFound, Problem, Unprocessable, problem_response
from icsuite_contracts.followups_v1 import FollowupNoteType, SourceType

from . import representations as rep
from .domain import (
    DomainError,
    FollowupFinished,
    InvalidLanguage,
    InvalidSchedule,
    InvalidTransition,
    NotesHistoryFull,
    TypeNotPermitted,
    display_area,
    normalize_language,
)
from .handlers import COPY_RULES_CONFIG, FOLLOWUP_TYPES_CONFIG, FollowupService
from .schemas import (
    CopyRulesIn,
    CopyRulesOut,
    FollowupIn,
    FollowupOut,
    FollowupPage,
    FollowupPatch,
    FollowupTypesIn,
    FollowupTypesOut,
    NoteIn,
    NoteOut,
    NotePage,
    SourceFollowupPage,
)

router = APIRouter(prefix="/v1")


def _service(request: Request) -> FollowupService:
    return request.app.state.service  # type: ignore[no-any-return]


def _staff(principal: AnyStaff) -> Principal:
    if len(principal.sub) > 128:
        raise Unprocessable("the token's sub is longer than 128 characters", slug="invalid-subject")
    return principal


Service = Annotated[FollowupService, Depends(_service)]
Staff = Annotated[Principal, Depends(_staff)]
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-ID", max_length=128)]
AccountListStatus = Literal["planned", "open", "in_process", "completed", "cancelled"]


def domain_problem(exc: DomainError) -> Problem:
    """The problem-details answer for each refusal of the domain."""
    match exc:
        case TypeNotPermitted():
            return Unprocessable(str(exc), slug="followup-type-not-permitted", rule=exc.rule,
                                 permitted=exc.permitted, followup_type=exc.followup_type)
        case InvalidSchedule():
            return Unprocessable(str(exc), slug="invalid-schedule")
        case InvalidLanguage():
            return Unprocessable(str(exc), slug="invalid-language", language=exc.tag)
        case InvalidTransition():
            return Problem(str(exc), status=409, title="Conflict", slug="invalid-status-transition",
                           status_now=exc.current, requested=exc.requested, allowed=exc.allowed)
        case FollowupFinished():
            return Problem(str(exc), status=409, title="Conflict", slug="followup-finished")
        case NotesHistoryFull():
            return Problem(str(exc), status=409, title="Conflict", slug="notes-history-full", limit=exc.limit)
    return Unprocessable(str(exc))


def install_domain_problems(app: FastAPI) -> None:
    async def _answer(request: Request, exc: Exception) -> Response:
        p = domain_problem(exc)  # type: ignore[arg-type]
        return problem_response(request, status=p.status, title=p.title, detail=p.detail, slug=p.slug,
                                headers=p.headers, **p.extensions)

    app.add_exception_handler(DomainError, _answer)


@router.get("/config/followup-types", response_model=FollowupTypesOut, tags=["customizing"])
async def get_followup_types(service: Service, _: AnyStaff) -> dict[str, Any]:
    return rep.config_out(await service.config(FOLLOWUP_TYPES_CONFIG))


@router.put("/config/followup-types", response_model=FollowupTypesOut, tags=["customizing"])
async def put_followup_types(body: FollowupTypesIn, service: Service, admin: Admin) -> dict[str, Any]:
    doc = await service.replace_config(FOLLOWUP_TYPES_CONFIG, rep.type_rules_value(body), by=admin.sub,
                                       expected_version=body.version)
    return rep.config_out(doc)


@router.get("/config/copy-rules", response_model=CopyRulesOut, tags=["customizing"])
async def get_copy_rules(service: Service, _: AnyStaff) -> dict[str, Any]:
    return rep.config_out(await service.config(COPY_RULES_CONFIG))


@router.put("/config/copy-rules", response_model=CopyRulesOut, tags=["customizing"])
async def put_copy_rules(body: CopyRulesIn, service: Service, admin: Admin) -> dict[str, Any]:
    doc = await service.replace_config(COPY_RULES_CONFIG, rep.copy_rules_value(body), by=admin.sub,
                                       expected_version=body.version)
    return rep.config_out(doc)


@router.post("/followups", status_code=201, response_model=FollowupOut, tags=["followups"],
             responses={422: {"description": "invalid, or the type is not permitted (names the rule)"}})
async def create_followup(body: FollowupIn, response: Response, request: Request, service: Service,
                          agent: Staff, correlation_id: CorrelationId = None) -> FollowupOut:
    command = rep.new_followup(body, default_language=request.app.state.default_note_language)
    followup = await service.create(command, source_data=rep.source_data(body), author=agent.sub,
                                    correlation_id=correlation_id)
    response.headers["Location"] = f"/v1/followups/{followup.followup_id}"
    return rep.followup_out(followup, with_notes=True)


@router.get("/followups/{followup_id}", response_model=FollowupOut, tags=["followups"])
async def get_followup(followup_id: str, service: Service, _: AnyStaff) -> FollowupOut:
    return rep.followup_out(await service.get(followup_id), with_notes=True)


@router.patch("/followups/{followup_id}", response_model=FollowupOut, tags=["followups"],
              responses={409: {"description": "not a valid status transition, or the follow-up is finished"}})
async def patch_followup(followup_id: str, body: FollowupPatch, service: Service, agent: Staff) -> FollowupOut:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("status", "") is None or ("priority" in changes and changes["priority"] is None):
        raise Unprocessable("status and priority cannot be null", slug="validation-error")
    return rep.followup_out(await service.change(followup_id, changes, by=agent.sub), with_notes=True)


@router.post("/followups/{followup_id}/notes", status_code=201, response_model=NoteOut, tags=["notes"])
async def add_note(followup_id: str, body: NoteIn, response: Response, service: Service,
                   agent: Staff) -> NoteOut:
    note = await service.add_note(followup_id, rep.note_draft(body), author=agent.sub)
    response.headers["Location"] = f"/v1/followups/{followup_id}/notes/{note.note_id}"
    return rep.note_out(note)


@router.get("/followups/{followup_id}/notes", response_model=NotePage, tags=["notes"])
async def list_notes(followup_id: str, service: Service, _: AnyStaff, limit: Limit = 50,
                     cursor: CursorParam = None, type: FollowupNoteType | None = None,
                     author: Annotated[str | None, Query(max_length=128)] = None,
                     language: Annotated[str | None, Query(max_length=35)] = None) -> NotePage:
    position = decode_cursor(cursor, required_keys=("p",))
    after = position["p"] if position else -1
    if not isinstance(after, int):
        raise Unprocessable("the cursor is malformed", slug="invalid-cursor")
    if language is not None and language != "*":
        language = normalize_language(language)
    page, more = await service.notes(followup_id, type=type, author=author, language=language,
                                     after=after, limit=limit)
    return NotePage(items=[rep.note_out(n) for _, n in page],
                    next_cursor=encode_cursor({"p": page[-1][0]}) if more and page else None)


@router.get("/followups/{followup_id}/notes/{note_id}", response_model=NoteOut, tags=["notes"])
async def get_note(followup_id: str, note_id: str, service: Service, _: AnyStaff) -> NoteOut:
    for note in (await service.get(followup_id)).notes:
        if note.note_id == note_id:
            return rep.note_out(note)
    raise NotFound(f"follow-up {followup_id!r} has no note {note_id!r}")


@router.get("/accounts/{account_id}/followups", response_model=FollowupPage, tags=["lists"])
async def account_followups(account_id: str, service: Service, _: AnyStaff, limit: Limit = 50,
                            cursor: CursorParam = None, status: AccountListStatus | None = None) -> FollowupPage:
    items, next_cursor = await service.for_account(account_id, status=status, cursor=cursor, limit=limit)
    return FollowupPage(items=[rep.followup_out(f, with_notes=False) for f in items], next_cursor=next_cursor)


@router.get("/sources/{source_type}/{source_id}/followups", response_model=SourceFollowupPage, tags=["lists"])
async def source_followups(source_type: SourceType, source_id: str, service: Service, _: AnyStaff,
                           limit: Limit = 50, cursor: CursorParam = None) -> SourceFollowupPage:
    items, next_cursor = await service.for_source(source_type, source_id, cursor=cursor, limit=limit)
    return SourceFollowupPage(items=[rep.followup_out(f, with_notes=False) for f in items],
                              next_cursor=next_cursor, display_area=display_area(source_type))  # type: ignore[arg-type]
