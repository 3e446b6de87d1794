"""Cursors and Last-Event-ID are parsed strictly: whatever a client sends answers a value or a problem
(400 ``invalid-cursor``, 422 ``invalid-last-event-id``), never 500. Cursors are signed: a changed, made-up
or foreign one is refused; the hostile contents below are signed here so that the parsing behind the
signature is tested too."""

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icsuite_chassis.cursor_signing import cursor_key, cursor_scope, sign_position
from icsuite_chassis.pagination import (
    InvalidCursor,
    cursor_int,
    cursor_time,
    decode_cursor,
    encode_cursor,
    parse_last_event_id,
)
from icsuite_chassis.problems import Unprocessable

pytestmark = pytest.mark.unit


def _b64(raw: bytes | str) -> str:
    raw = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _signed(raw: bytes | str) -> str:
    return sign_position(_b64(raw))


def test_a_cursor_made_here_comes_back_unchanged() -> None:
    position = {"t": "2025-03-01T09:15:41+01:00", "s": -0.75, "a": 1, "id": "acc-1", "n": None, "b": True}
    assert decode_cursor(encode_cursor(position), required_keys=tuple(position)) == position


@pytest.mark.parametrize("raw", [
    '{"p": 9223372036854775808}', '{"p": -9223372036854775809}', '{"p": ' + "9" * 5000 + "}",
    '{"p": Infinity}', '{"p": -Infinity}', '{"p": NaN}', '{"p": 1e999}', '{"p": {"$gt": ""}}', '{"p": [1]}',
    '{"p": "' + "x" * 300 + '"}', '[1]', '"p"', '{"p": 1, "q": 2}', '{}', "[" * 5000 + "]" * 5000,
])
def test_hostile_json_in_a_signed_cursor_answers_400(raw: str) -> None:
    with pytest.raises(InvalidCursor) as refused:
        decode_cursor(_signed(raw), required_keys=("p",))
    assert (refused.value.status, refused.value.slug) == (400, "invalid-cursor")


@pytest.mark.parametrize("cursor", ["%%%", "a", "eyJwIjoxfQ==", "eyJ wIjoxfQ", "²³", "x" * 600, _b64(b"\xff\xfe"),
                                    _b64('{"p":1}'), _b64('{"p":1}') + "." + "A" * 43])
def test_text_that_is_not_a_signed_cursor_answers_400(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_a_changed_cursor_answers_400() -> None:
    cursor = encode_cursor({"p": 10})
    position, _, signature = cursor.partition(".")
    forged = _b64('{"p":99}') + "." + signature
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    for changed in (forged, flipped, position + "." + signature[:-2], cursor + "A"):
        with pytest.raises(InvalidCursor):
            decode_cursor(changed, required_keys=("p",))


def test_a_cursor_of_another_list_or_another_service_answers_400() -> None:
    identity, alerts = cursor_key("a" * 32, "identity"), cursor_key("a" * 32, "alerts")
    assert identity != alerts and identity != cursor_key("b" * 32, "identity")
    with cursor_scope(identity, "/v1/accounts/acc-1/interactions"):
        cursor = encode_cursor({"p": 1})
        assert decode_cursor(cursor, required_keys=("p",)) == {"p": 1}
    for key, path in ((identity, "/v1/accounts/acc-2/interactions"), (alerts, "/v1/accounts/acc-1/interactions"),
                      (cursor_key("b" * 32, "identity"), "/v1/accounts/acc-1/interactions")):
        with cursor_scope(key, path), pytest.raises(InvalidCursor):
            decode_cursor(cursor, required_keys=("p",))
    with pytest.raises(InvalidCursor):  # outside the list: the process's own key
        decode_cursor(cursor, required_keys=("p",))


def test_typed_reads_refuse_wrong_types_and_times_outside_the_years() -> None:
    assert cursor_int({"p": 5}, "p") == 5
    for position in ({"p": "5"}, {"p": True}, {"p": 1.5}):
        with pytest.raises(InvalidCursor):
            cursor_int(position, "p")
    assert cursor_time({"t": "2025-03-01T09:15:41+01:00"}, "t").year == 2025
    for text in ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "2025-03-01T09:15:41", "yesterday"):
        with pytest.raises(InvalidCursor):
            cursor_time({"t": text}, "t")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_any_text_as_a_cursor_decodes_or_answers_400(text: str) -> None:
    try:
        position = decode_cursor(text)
    except InvalidCursor:
        return
    assert position is None or isinstance(position, dict)
    json.dumps(position)


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=10))
def test_any_json_value_in_a_signed_cursor_decodes_to_scalars_or_answers_400(value) -> None:
    cursor = _signed(json.dumps({"p": value}))
    try:
        position = decode_cursor(cursor, required_keys=("p",))
    except InvalidCursor:
        return
    assert not isinstance(position["p"], (dict, list))
    if isinstance(position["p"], int):
        assert -2**63 <= position["p"] < 2**63


@pytest.mark.parametrize("raw,expected", [(None, None), ("", None), ("0", 0), ("42", 42),
                                          ("9223372036854775807", 2**63 - 1)])
def test_a_stream_position_is_read(raw, expected) -> None:
    assert parse_last_event_id(raw) == expected


@pytest.mark.parametrize("raw", ["²", "٣", "-1", "+1", " 1", "1 ", "1e3", "0x10", "1.0", "9" * 5000,
                                 "9223372036854775808", "abc"])
def test_a_hostile_last_event_id_answers_422(raw: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        parse_last_event_id(raw)
    assert refused.value.slug == "invalid-last-event-id"
