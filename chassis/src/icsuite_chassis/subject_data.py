"""What a service holds about one account, for the data subject's copy (GDPR articles 15 and 20).

Each service declares, in order, the sections of its export: a name, the collection, and how to find the
account's documents there, possibly from sections found before (the notes of the account's records).
:func:`subject_data_router` serves them to administrators at ``GET /v1/privacy/accounts/{account_id}/data``
as ``{service, account_id, collected_at, sections: {name: [document]}, counts, truncated}``: the documents
as stored, without the store's bookkeeping (``_version``, ``_applied``, ``_outbox``), times in RFC 3339,
bytes in base64. Every call is in the service's audit log as an ``export``, with the counts.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from bson import Binary, Decimal128, ObjectId
from fastapi import APIRouter, Path, Request
from pymongo.asynchronous.database import AsyncDatabase

from .audit import audited, note_audit
from .auth import Admin
from .clock import utc_now

Found = Mapping[str, list[dict[str, Any]]]
Where = Callable[[str, Found], dict[str, Any] | None]
BOOKKEEPING = frozenset({"_version", "_applied", "_outbox"})
MAX_DOCUMENTS = 10_000
AccountId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f/\\]+$",
                                  description="an account id: no control characters, no slashes")]


@dataclass(frozen=True)
class SubjectSection:
    """One part of a service's export: the documents of ``collection`` that ``where`` finds (None: none)."""

    name: str
    collection: str
    where: Where


def by_field(field: str = "account_id") -> Where:
    """The documents whose ``field`` is the account id (an array field holding it matches too)."""
    return lambda account_id, _found: {field: account_id}


def by_any(*fields: str) -> Where:
    return lambda account_id, _found: {"$or": [{field: account_id} for field in fields]}


def linked(section: str, field: str, source_field: str = "_id") -> Where:
    """The documents whose ``field`` names one of the documents found in ``section`` before."""
    def where(_account_id: str, found: Found) -> dict[str, Any] | None:
        values = [doc[source_field] for doc in found.get(section, []) if doc.get(source_field) is not None]
        return {field: {"$in": values}} if values else None
    return where


def plain(value: Any) -> Any:
    """A stored value as JSON: bookkeeping dropped, times as RFC 3339, bytes as base64, ids as text."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items() if k not in BOOKKEEPING}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (bytes, Binary)):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (ObjectId, Decimal, Decimal128)):
        return str(value)
    return value


async def collect(db: AsyncDatabase[dict[str, Any]], sections: Sequence[SubjectSection], account_id: str,
                  *, limit: int = MAX_DOCUMENTS) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The raw documents of each section, and the names of sections cut at ``limit`` documents."""
    found: dict[str, list[dict[str, Any]]] = {}
    truncated: list[str] = []
    for section in sections:
        where = section.where(account_id, found)
        docs = [] if where is None else [d async for d in db[section.collection].find(where).sort("_id", 1)
                                         .limit(limit + 1)]
        if len(docs) > limit:
            truncated.append(section.name)
        found[section.name] = found.get(section.name, []) + docs[:limit]
    return found, truncated


def subject_data_router(service: str, sections: Sequence[SubjectSection]) -> APIRouter:
    router = APIRouter(prefix="/v1/privacy", tags=["privacy"])

    @router.get("/accounts/{account_id}/data", dependencies=[audited(action="export")],
                summary="Everything this service holds about an account (administrators; for the data subject's "
                        "copy)", responses={403: {"description": "the caller is not an administrator"}})
    async def account_data(account_id: AccountId, request: Request, _: Admin) -> dict[str, Any]:
        found, truncated = await collect(request.app.state.runtime.db, sections, account_id)
        counts = {name: len(docs) for name, docs in found.items()}
        note_audit(request, account_id=account_id, details={"counts": counts})
        return {"service": service, "account_id": account_id, "collected_at": utc_now().isoformat(),
                "sections": {name: plain(docs) for name, docs in found.items()}, "counts": counts,
                "truncated": truncated}

    return router
