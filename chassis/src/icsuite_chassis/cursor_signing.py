"""Signed list cursors: a cursor is only ever read back by the list that made it.

A cursor is ``<position>.<signature>``: the position as base64url JSON (see :mod:`.pagination`) and an
HMAC-SHA256 over the request path and the position, under a key of the service. The key is derived from
``IC_CURSOR_SECRET`` (else from ``IC_JWT_SECRET``) and the service's name, so a cursor changed by a client,
made up, or taken from another list, another account's timeline or another service is refused before its
content is parsed (compared in constant time).

:class:`CursorScope` (installed by the chassis app factory) sets the key and the path for each request.
Outside a request, cursors are signed with a random key of the process, so they verify only there (unit
tests); :func:`cursor_scope` signs for a given service and path (tests that forge cursors).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

SIGNATURE_CHARS = 43  # 32 bytes of HMAC-SHA256, base64url without padding
SEPARATOR = "."


@dataclass(frozen=True)
class _Signer:
    key: bytes
    path: str

    def sign(self, position: str) -> str:
        mac = hmac.new(self.key, f"{self.path}\x1f{position}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


_PROCESS_SIGNER = _Signer(secrets.token_bytes(32), "")
_SIGNER: ContextVar[_Signer] = ContextVar("icsuite_cursor_signer", default=_PROCESS_SIGNER)


def cursor_key(secret: str, service_name: str) -> bytes:
    """The key of one service's cursors: never the secret itself, and different per service."""
    return hmac.new(secret.encode(), f"icsuite-cursor\x1f{service_name}".encode(), hashlib.sha256).digest()


def sign_position(position: str) -> str:
    """``position`` with the signature of the list being answered."""
    return f"{position}{SEPARATOR}{_SIGNER.get().sign(position)}"


def verified_position(cursor: str) -> str | None:
    """The position of ``cursor`` if this list signed it, else None."""
    position, separator, signature = cursor.rpartition(SEPARATOR)
    if not separator or len(signature) != SIGNATURE_CHARS:
        return None
    expected = _SIGNER.get().sign(position)
    return position if hmac.compare_digest(expected.encode(), signature.encode()) else None


@contextmanager
def cursor_scope(key: bytes, path: str) -> Iterator[None]:
    """Sign and verify cursors as the list at ``path`` of the service whose key is ``key`` does."""
    token = _SIGNER.set(_Signer(key, path))
    try:
        yield
    finally:
        _SIGNER.reset(token)


class CursorScope:
    """ASGI middleware: the cursors of a request are signed with the service's key and its path."""

    def __init__(self, app: ASGIApp, key: bytes):
        self.app = app
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with cursor_scope(self.key, scope.get("path", "")):
            await self.app(scope, receive, send)
