"""Cursor pagination: ``?limit=&cursor=`` in, ``{"items": [...], "next_cursor": ...}`` out.

A cursor is opaque to clients: base64url of a small JSON object (the sort key of the last item seen).
A cursor that was not made here answers 422, never 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from .problems import Unprocessable

T = TypeVar("T")
MAX_LIMIT = 200

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="how many items to answer at most")]
CursorParam = Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, required_keys: tuple[str, ...] = ()) -> dict[str, Any] | None:
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise Unprocessable("the cursor is malformed; pass next_cursor of a previous page unchanged",
                            slug="invalid-cursor") from None
    if not isinstance(position, dict) or any(k not in position for k in required_keys):
        raise Unprocessable("the cursor is malformed; pass next_cursor of a previous page unchanged",
                            slug="invalid-cursor")
    for value in position.values():
        if isinstance(value, (dict, list)):
            raise Unprocessable("the cursor is malformed", slug="invalid-cursor")
    return position
