"""The kinds of domain error every service raises, and the one table that turns them into problems.

Domains are pure (no FastAPI), so they raise these plain exceptions; the chassis maps each kind to an
RFC 9457 problem once (:data:`PROBLEM_TABLE`, installed by :func:`icsuite_chassis.app.create_app`).
A service subclasses a kind per error (``class RecordClosed(Conflict)``) and may attach extensions
(``Conflict("...", blockers=[...])``) that appear in the problem body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any



class StoreConflict(RuntimeError):
    """A document kept changing under the store's guarded writes until the attempts ran out."""


class DomainError(Exception):
    """A request the domain refuses; ``extensions`` are added to the problem body."""

    def __init__(self, detail: str, **extensions: Any):
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFoundError(DomainError):
    """The object does not exist (or the caller may not know that it does)."""


class ConflictError(DomainError):
    """The object's state does not allow the change (closed, already claimed, a duplicate...)."""


class ForbiddenError(DomainError):
    """The caller's role or ownership does not allow the change."""


class InvalidError(DomainError):
    """The request is well-formed but its values are not acceptable."""


class LimitReachedError(DomainError):
    """A cap (notes per record, attachments, requests per caller) is reached."""


class TooLargeError(DomainError):
    """A value is larger than the suite carries."""


class RateLimitedError(DomainError):
    """Too many requests; ``retry_after_s`` says when to come back."""

    def __init__(self, detail: str, *, retry_after_s: int = 60, **extensions: Any):
        super().__init__(detail, **extensions)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class ProblemKind:
    status: int
    title: str
    slug: str


PROBLEM_TABLE: dict[type[Exception], ProblemKind] = {
    NotFoundError: ProblemKind(404, "Not found", "not-found"),
    ConflictError: ProblemKind(409, "Conflict", "conflict"),
    ForbiddenError: ProblemKind(403, "Forbidden", "forbidden"),
    InvalidError: ProblemKind(422, "Unprocessable request", "unprocessable"),
    LimitReachedError: ProblemKind(409, "Limit reached", "limit-reached"),
    TooLargeError: ProblemKind(413, "Payload too large", "payload-too-large"),
    RateLimitedError: ProblemKind(429, "Too many requests", "too-many-requests"),
    StoreConflict: ProblemKind(409, "Concurrent change", "concurrent-change"),
}


def problem_kind(exc: BaseException) -> ProblemKind | None:
    """The table's entry for ``exc``'s class or its nearest listed base."""
    for cls in type(exc).__mro__:
        kind = PROBLEM_TABLE.get(cls)
        if kind is not None:
            return kind
    return None
