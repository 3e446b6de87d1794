"""Cursor pagination: ``?limit=&cursor=`` in, ``{"items": [...], "next_cursor": ...}`` out.

A cursor is opaque to clients: base64url of a small JSON object (the sort key of the last item seen),
signed for the list that answered it (:mod:`.cursor_signing`). A cursor changed by a client, made up or
taken from another list answers 400 ``invalid-cursor`` before its content is read. The content is parsed
strictly all the same (400 ``invalid-cursor``, never 500): only the base64url
alphabet, one flat object of at most eight keys (exactly ``required_keys`` when they are given), values
that are ``null``, booleans, strings of at most 256 characters, integers within int64 or finite numbers
(scores) - no ``Infinity``/``NaN``, no ``1e999``, no 5,000-digit numbers, no nested objects (so no operator injection either).
:func:`cursor_int`, :func:`cursor_text` and :func:`cursor_time` read one value with its type (times
with their offset, in the years the contracts allow).

:func:`parse_last_event_id` reads a server-sent-event stream position just as strictly.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from datetime import datetime
from typing import Annotated, Any, Generic, NoReturn, TypeVar

from fastapi import Query
from icsuite_contracts.base import INT64_MAX, MAX_YEAR, MIN_YEAR
from pydantic import BaseModel

from .cursor_signing import sign_position, verified_position
from .problems import Problem, Unprocessable

T = TypeVar("T")
MAX_LIMIT = 200
MAX_CURSOR_CHARS = 512
MAX_CURSOR_KEYS = 8
MAX_CURSOR_TEXT = 256
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)
_POSITION = re.compile(r"[0-9]{1,19}", re.ASCII)
_MALFORMED = "the cursor is not one this list answered; pass next_cursor of a previous page unchanged"

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="how many items to answer at most")]
CursorParam = Annotated[str | None, Query(max_length=MAX_CURSOR_CHARS,
                                          description="next_cursor of the previous page")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class InvalidCursor(Problem):
    """400 ``invalid-cursor``: a cursor this list did not answer, or whose content does not fit it."""

    status, title, slug = 400, "Invalid cursor", "invalid-cursor"

    def __init__(self, detail: str = _MALFORMED):
        super().__init__(detail)


def encode_cursor(position: dict[str, Any]) -> str:
    """The signed cursor of ``position`` for the list being answered."""
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True, default=str).encode()
    return sign_position(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def _malformed(detail: str = _MALFORMED) -> NoReturn:
    raise InvalidCursor(detail)


def _refuse_constant(text: str) -> NoReturn:
    raise ValueError(f"not a cursor value: {text[:20]}")


def _finite(text: str) -> float:
    value = float(text) if len(text) <= 32 else math.inf
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def _int64(text: str) -> int:
    if len(text.lstrip("-")) > 19:
        raise ValueError("integer too long")
    value = int(text)
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise ValueError("integer beyond int64")
    return value


def _scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_CURSOR_TEXT
    return value is None or isinstance(value, (bool, int, float))


def decode_cursor(cursor: str | None, *, required_keys: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The position a cursor holds; 400 ``invalid-cursor`` for anything this list did not sign."""
    if cursor is None or cursor == "":
        return None
    if len(cursor) > MAX_CURSOR_CHARS or (encoded := verified_position(cursor)) is None:
        _malformed()
    if not _BASE64URL.fullmatch(encoded) or len(encoded) % 4 == 1:
        _malformed()
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        position = json.loads(raw, parse_int=_int64, parse_float=_finite, parse_constant=_refuse_constant)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        _malformed()
    if not isinstance(position, dict) or len(position) > MAX_CURSOR_KEYS:
        _malformed()
    if required_keys and set(position) != set(required_keys):
        _malformed()
    if not all(_scalar(value) for value in position.values()):
        _malformed()
    return position


def cursor_int(position: dict[str, Any], key: str) -> int:
    value = position.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        _malformed()
    return value


def cursor_text(position: dict[str, Any], key: str) -> str:
    value = position.get(key)
    if not isinstance(value, str):
        _malformed()
    return value


def cursor_time(position: dict[str, Any], key: str) -> datetime:
    """A time with its offset, in the years ``MIN_YEAR``..``MAX_YEAR``."""
    try:
        value = datetime.fromisoformat(cursor_text(position, key))
    except ValueError:
        _malformed()
    if value.tzinfo is None or value.utcoffset() is None or not MIN_YEAR <= value.year <= MAX_YEAR:
        _malformed()
    return value


def parse_last_event_id(raw: str | None) -> int | None:
    """A server-sent-event stream position from ``Last-Event-ID``: ASCII digits only, within int64.

    ``None`` or empty means "from the start"; anything else (``²``, ``-1``, ``1e3``, 5,000 digits, spaces)
    answers 422 ``invalid-last-event-id``.
    """
    if raw is None or raw == "":
        return None
    if not _POSITION.fullmatch(raw) or int(raw) > INT64_MAX:
        raise Unprocessable("Last-Event-ID must be a stream position: a non-negative integer of at most "
                            "19 ASCII digits", slug="invalid-last-event-id")
    return int(raw)
