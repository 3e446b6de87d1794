"""RFC 9457 problem details for every error a gateway answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import DomainError, RateLimitedError, StoreConflict, problem_kind
from .logging import get_logger

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://icsuite.dev/problems/"
_log = get_logger(__name__)


@dataclass(frozen=True)
class ProblemType:
    """One problem ``type`` of the suite: its URI is ``PROBLEM_BASE + slug``."""

    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


PROBLEM_TYPES: dict[str, ProblemType] = {t.slug: t for t in (
    ProblemType("bad-request", 400, "Bad request"),
    ProblemType("invalid-cursor", 400, "Invalid cursor"),
    ProblemType("unauthorized", 401, "Unauthorized"),
    ProblemType("forbidden", 403, "Forbidden"),
    ProblemType("not-found", 404, "Not found"),
    ProblemType("method-not-allowed", 405, "Method not allowed"),
    ProblemType("conflict", 409, "Conflict"),
    ProblemType("payload-too-large", 413, "Payload too large"),
    ProblemType("unprocessable", 422, "Unprocessable request"),
    ProblemType("validation-error", 422, "Invalid request"),
    ProblemType("too-many-requests", 429, "Too many requests"),
    ProblemType("internal-error", 500, "Internal error"),
    ProblemType("not-ready", 503, "Not ready"),
)}
"""The generic problem types every gateway answers with; a service may add more specific ones, except
for 404: every "not found" of every service has the one type ``not-found``."""
NOT_FOUND = PROBLEM_TYPES["not-found"]
_BY_STATUS = {t.status: t for t in reversed(PROBLEM_TYPES.values())}  # the first slug of a status wins


def problem_type(status: int) -> ProblemType | None:
    """The generic problem type of an HTTP status, if the suite has one."""
    return _BY_STATUS.get(status)


class Problem(Exception):
    """An error that becomes a problem-details response. Subclass it per kind of failure."""

    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(self, detail: str, *, status: int | None = None, title: str | None = None,
                 slug: str | None = None, headers: dict[str, str] | None = None, **extensions: Any):
        super().__init__(detail)
        self.detail = detail
        self.status = status or self.status
        self.title = title or self.title
        self.slug = slug or self.slug
        self.headers = headers or {}
        self.extensions = extensions


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class Unprocessable(Problem):
    status, title, slug = 422, "Unprocessable request", "unprocessable"


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


class Unauthorized(Problem):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class TooManyRequests(Problem):
    status, title, slug = 429, "Too many requests", "too-many-requests"


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


def problem_response(request: Request | None, *, status: int, title: str, detail: str,
                     slug: str, headers: dict[str, str] | None = None, **extensions: Any) -> JSONResponse:
    if status == NOT_FOUND.status:
        slug = NOT_FOUND.slug  # one not-found type for every service and every kind of object
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    if request is not None:
        body["instance"] = request.url.path
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def domain_problem(request: Request | None, exc: Exception) -> JSONResponse:
    """The problem of a domain error, by the chassis's one table (:data:`icsuite_chassis.errors.PROBLEM_TABLE`)."""
    kind = problem_kind(exc)
    if kind is None:
        raise exc
    extensions = dict(getattr(exc, "extensions", {}) or {})
    headers = None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return problem_response(request, status=kind.status, title=kind.title, slug=kind.slug,
                            detail=getattr(exc, "detail", None) or str(exc), headers=headers, **extensions)


def _jsonable_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in errors]


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error to a problem-details response; an unexpected error is logged and answered 500."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, status=exc.status, title=exc.title, detail=exc.detail,
                                slug=exc.slug, headers=exc.headers, **exc.extensions)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return domain_problem(request, exc)

    @app.exception_handler(StoreConflict)
    async def _conflict(request: Request, exc: StoreConflict) -> JSONResponse:
        return domain_problem(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _jsonable_errors(list(exc.errors()))
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        return problem_response(request, status=422, title="Invalid request", slug="validation-error",
                                detail=detail or "the request is invalid", errors=errors)

    @app.exception_handler(ValidationError)
    async def _contract(request: Request, exc: ValidationError) -> JSONResponse:
        """A value the request model let through but an event contract refuses (a time in the year 9000,
        an integer above int64): the change cannot be made, so 422 naming the field, not 500."""
        errors = _jsonable_errors(list(exc.errors(include_input=False)))
        _log.warning("a request value does not fit an event contract", path=request.url.path, model=exc.title,
                     fields=[".".join(map(str, e["loc"])) for e in errors[:5]])
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        return problem_response(request, status=422, title="Invalid request", slug="contract-violation",
                                detail=f"{exc.title}: {detail}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized",
                 403: "Forbidden", 413: "Payload too large"}.get(exc.status_code, "HTTP error")
        return problem_response(request, status=exc.status_code, title=title, detail=str(exc.detail),
                                slug=title.lower().replace(" ", "-"), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unhandled error", path=request.url.path)
        return problem_response(request, status=500, title="Internal error", slug="internal-error",
                                detail="an unexpected error occurred; it has been logged")
