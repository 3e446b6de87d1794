"""Data-subject exports: the collector (``icsuite privacy export``) records each archive it builds here, in
identity's audit log, before it hands the archive out: who asked, when, and what it holds (every file with
its size, checksum and the counts per section). The record is written before the answer, never queued."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from icsuite_chassis.audit import AUDIT_COLLECTION, audited, note_audit, record_now
from icsuite_chassis.auth import Admin
from icsuite_chassis.problems import NotFound
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from .deps import IdPath, Service

router = APIRouter(prefix="/v1/privacy", tags=["privacy"])
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
"""A service or section name: it becomes a field name of the stored record, so no ``$``, ``.`` or controls."""


def _storable(text: str) -> str:
    """Text the database can store: valid UTF-8 (no lone surrogates) and no control characters."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (a lone surrogate is not)") from exc
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise ValueError("must not hold control characters")
    return text


Storable = Annotated[str, AfterValidator(_storable)]


class ExportFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Storable = Field(min_length=1, max_length=300, description="The file's path inside the archive.")
    service: Name | None = Field(default=None, description="The service the file's data comes from.")
    bytes: int = Field(ge=0, le=2**40)
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    counts: dict[Name, Annotated[int, Field(ge=0, le=2**31)]] = Field(
        default_factory=dict, max_length=50, description="Documents per section of a service's file.")


class ExportRecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: Storable = Field(min_length=1, max_length=128, pattern=r"^[^/\\]+$")
    files: list[ExportFile] = Field(min_length=1, max_length=5000)


class ExportRecordOut(BaseModel):
    export_id: str
    account_id: str
    requested_by: str | None
    recorded_at: datetime
    files: list[ExportFile]


def _out(entry: dict[str, Any]) -> ExportRecordOut:
    return ExportRecordOut(export_id=entry["_id"], account_id=entry["ids"]["account_id"],
                           requested_by=entry["actor"], recorded_at=entry["at"],
                           files=entry["details"].get("files", []))


@router.post("/exports", status_code=201, response_model=ExportRecordOut, dependencies=[audited(action="export")],
             summary="Record a data-subject export: who asked, when, and what the archive holds (administrators)",
             responses={403: {"description": "the caller is not an administrator"}})
async def record_export(body: ExportRecordIn, request: Request, response: Response, _: Admin,
                        svc: Service) -> ExportRecordOut:
    note_audit(request, account_id=body.account_id,
               details={"files": [file.model_dump(exclude_none=True) for file in body.files]})
    entry = await record_now(request, 201, svc.clock())
    response.headers["Location"] = f"/v1/privacy/exports/{entry['_id']}"
    return _out(entry)


@router.get("/exports/{export_id}", response_model=ExportRecordOut, summary="A recorded data-subject export",
            responses={403: {"description": "the caller is not an administrator"}})
async def get_export(export_id: IdPath, request: Request, _: Admin) -> ExportRecordOut:
    audit = request.app.state.runtime.db[AUDIT_COLLECTION]
    entry = await audit.find_one({"_id": export_id, "action": "export", "route": "/v1/privacy/exports"})
    if entry is None:
        raise NotFound(f"no export {export_id} was recorded")
    return _out(entry)
