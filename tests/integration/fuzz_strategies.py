"""Hypothesis strategies for what the OpenAPI documents cannot describe: the inside of a cursor, stream
positions, times at the edges of the calendar and bearer tokens that are almost right.

A cursor is a plain string to the schema, so schemathesis alone only sends text that is not signed;
these strategies also send well-formed cursors holding hostile values (integers beyond int64,
``Infinity``, ``1e999``, 5,000 digits, operators, times in the year 1, nested objects) under the keys the
services use, each either signed as the list itself would sign it (so the parsing behind the signature is
fuzzed too), with its signature changed, signed for another list or service, or not signed at all.
:func:`cursor_for` makes the cursor text for the path of the case.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
from hypothesis import strategies as st
from icsuite_chassis.cursor_signing import cursor_key, cursor_scope, sign_position

CURSOR_KEYS = ("p", "d", "i", "t", "s", "a", "id")
INT64_MAX = 2**63 - 1


def b64(raw: str | bytes) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


_RAW_VALUES = ["9223372036854775808", "-9223372036854775809", "9" * 5000, "Infinity", "-Infinity", "NaN", "1e999",
               "-1e999", "1.5", "true", "null", '{"$gt": ""}', '["x"]', '"0001-01-01T00:00:00+00:00"',
               '"9999-12-31T23:59:59+00:00"', '"2025-13-45T99:99:99Z"', '"\\u0000"', '"' + "x" * 400 + '"']
HOSTILE_VALUE = st.one_of(
    st.sampled_from(_RAW_VALUES),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=40).map(json.dumps),
)


CURSOR_SIGNINGS = ("signed", "signed", "tampered", "other list", "other service", "unsigned")


@st.composite
def hostile_cursors(draw: Any) -> tuple[str, str]:
    """(how to sign, position): a base64url JSON object under the services' cursor keys with raw hostile
    values, or odd text; see :func:`cursor_for`."""
    keys = draw(st.lists(st.sampled_from(CURSOR_KEYS), min_size=1, max_size=4, unique=True))
    body = "{" + ",".join(f'"{key}":{draw(HOSTILE_VALUE)}' for key in keys) + "}"
    position = draw(st.one_of(
        st.just(b64(body)),
        st.just(b64(body)[:460]),
        st.sampled_from([b64("[" * 1000 + "]" * 1000)[:460], b64(b"\xff\xfe\x00"), "eyJwIjoxfQ==", "%%", "²³", "a"]),
        st.text(max_size=80),
    ))
    return draw(st.sampled_from(CURSOR_SIGNINGS)), position


def cursor_for(how: str, position: str, *, secret: str, service: str, path: str) -> str:
    """The cursor text of a drawn ``(how, position)`` sent to ``path`` of ``service``."""
    if how == "unsigned":
        return position
    key = cursor_key(secret, "identity" if service != "identity" else "alerts") if how == "other service" \
        else cursor_key(secret, service)
    with cursor_scope(key, path + "/other" if how == "other list" else path):
        cursor = sign_position(position)
    return cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB") if how == "tampered" else cursor


_HEADER_TEXT = st.characters(codec="latin-1", exclude_categories=["Cc"])
STREAM_POSITIONS = st.one_of(
    st.sampled_from(["²", "¹", "-1", "+1", " 1", "1e3", "0x10", "1.0", "9" * 5000, str(INT64_MAX + 1),
                     str(INT64_MAX), "0", ""]),
    st.integers(min_value=0, max_value=2**80).map(str),
    st.text(alphabet=_HEADER_TEXT, max_size=30),
).map(str.strip)
"""Last-Event-ID values (headers hold Latin-1 without control characters or surrounding blanks)."""

HOSTILE_TIMES = st.sampled_from([
    "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59-01:00", "1899-12-31T23:59:59Z", "2200-01-01T00:00:00Z", "2025-03-01T09:15:41",
    "2025-02-30T00:00:00Z", "2025-03-01T24:00:00Z", "0000-01-01T00:00:00Z", "+2025-03-01T00:00:00Z",
])


def almost_right_tokens(secret: str) -> st.SearchStrategy[str]:
    """Authorization header values a server must answer 401 (or 403), never 500."""
    now = int(time.time())

    def signed(claims: dict[str, Any], key: str = secret, algorithm: str = "HS256") -> str:
        return "Bearer " + jwt.encode(claims, key, algorithm=algorithm)

    fixed = [
        signed({"sub": "a-1", "roles": ["agent"], "iat": now - 7200, "exp": now - 3600}),  # expired
        signed({"sub": "a-1", "roles": ["agent"], "exp": now + 600}, key="another-secret-of-enough-length-0123"),
        signed({"sub": "a-1", "roles": "agent", "exp": now + 600}),  # roles not a list
        signed({"sub": 17, "roles": ["agent"], "exp": now + 600}),  # sub not a string
        signed({"roles": ["agent"], "exp": now + 600}),  # no sub
        signed({"sub": "a-1", "roles": ["agent"]}),  # no exp
        signed({"sub": "a-1", "roles": ["agent"], "exp": 2**70}),  # exp beyond any clock
        signed({"sub": "a-1", "roles": ["agent"], "exp": "tomorrow"}),
        signed({"sub": "a-1", "roles": [{"$gt": ""}], "exp": now + 600}),
        "Bearer " + jwt.encode({"sub": "a-1", "roles": ["admin"], "exp": now + 600}, None, algorithm="none"),
        "Bearer", "Basic YTpi", "bearer x.y.z", "Bearer " + "A" * 4000, "Bearer ²", "Bearer a.b",
    ]
    return st.one_of(st.sampled_from(fixed), st.text(alphabet=_HEADER_TEXT, max_size=60)
                     .map(lambda text: ("Bearer " + text).strip()))
