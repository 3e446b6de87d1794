"""The two CloudEvents content modes of the Kafka protocol binding, down to attributes and data.

Binary mode: each attribute is a ``ce_<name>`` header, ``content-type`` names the data's media type and
the record value is the data. Header values are percent-decoded on reading (the binding lets a producer
percent-encode them; the CloudEvents SDK's writers do) and percent-encoded on writing where a value
holds a space, ``"``, ``%`` or a character outside printable ASCII, so that reading gives back exactly
what was written.

Structured mode (``content-type: application/cloudevents+json``): the record value is one JSON object
with every attribute and ``data`` (or ``data_base64``).

Both readers return :class:`WireEvent`: the attributes by CloudEvents name (``id``, ``type``, ...,
extensions such as ``correlationid``), and the data bytes with their media type.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote, unquote

__all__ = [
    "DATA_CONTENT_TYPE",
    "STRUCTURED_CONTENT_TYPE",
    "DecodeError",
    "DecodeErrorKind",
    "Headers",
    "WireEvent",
    "binary_headers",
    "media_type",
    "parse_json",
    "read_binary",
    "read_structured",
]

DATA_CONTENT_TYPE = "application/json"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
LEGACY_CORRELATION_HEADER = "correlation_id"
"""Written by releases before December 2026 beside ``ce_correlationid``; still read, never written."""

DecodeErrorKind = Literal["not_json", "invalid_model", "unknown_type", "missing_header", "too_large"]

# printable ASCII stays as it is, except the three characters the CloudEvents bindings always encode
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')

HeaderValue = str | bytes | bytearray | memoryview | None
Headers = Mapping[str, HeaderValue] | Iterable[tuple[str | bytes, HeaderValue]]


class DecodeError(Exception):
    """A message that cannot be read; ``kind`` says why (and decides nothing but the DLQ record)."""

    def __init__(self, kind: DecodeErrorKind, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: DecodeErrorKind = kind
        self.message = message


@dataclass(frozen=True)
class WireEvent:
    """One CloudEvent as read from Kafka: attributes by name, the data and its media type."""

    attributes: Mapping[str, Any]
    data: bytes | Any
    """The data: bytes in binary mode; in structured mode the already parsed JSON value (or bytes
    from ``data_base64``)."""
    content_type: str


def media_type(value: str | None) -> str:
    """``application/json`` of ``Application/JSON; charset=utf-8``; the default when absent."""
    return (value or DATA_CONTENT_TYPE).split(";")[0].strip().lower()


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(value: bytes) -> Any:
    """JSON with numbers as Decimal and NaN/Infinity refused; ``DecodeError('not_json')`` otherwise."""
    try:
        return json.loads(value, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError("not_json", f"body is not JSON: {exc}") from None


def _text(raw: HeaderValue) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    try:
        return bytes(raw).decode()
    except UnicodeDecodeError:
        return None


def normalize_headers(headers: Headers | None) -> dict[str, str]:
    """Header names lower-cased, values as text (a value that is not UTF-8 is left out)."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    result: dict[str, str] = {}
    for name, raw in pairs:
        key = name.decode(errors="replace") if isinstance(name, bytes) else name
        text = _text(raw)
        if text is not None:
            result[key.lower()] = text
    return result


def binary_headers(attributes: Mapping[str, str | None]) -> list[tuple[str, bytes]]:
    """``ce_*`` headers (percent-encoded where needed) and ``content-type`` for binary mode."""
    headers = [(f"ce_{name}", quote(value, safe=_SAFE).encode())
               for name, value in attributes.items() if value is not None]
    headers.append(("content-type", DATA_CONTENT_TYPE.encode()))
    return headers


def read_binary(headers: Mapping[str, str], body: bytes) -> WireEvent:
    """The attributes of the ``ce_*`` headers, percent-decoded, and the body as the data."""
    attributes: dict[str, Any] = {name[3:]: unquote(value) for name, value in headers.items()
                                  if name.startswith("ce_")}
    legacy = headers.get(LEGACY_CORRELATION_HEADER)
    # the old header held the event's own id when there was no correlation: that is no correlation
    if "correlationid" not in attributes and legacy and legacy != attributes.get("id"):
        attributes["correlationid"] = legacy
    return WireEvent(attributes, body, media_type(headers.get("content-type")))


def read_structured(body: bytes) -> WireEvent:
    """The attributes and data of a structured-mode JSON object."""
    document = parse_json(body)
    if not isinstance(document, dict):
        raise DecodeError("not_json", "a structured-mode event must be a JSON object")
    attributes = {name: value for name, value in document.items() if name not in ("data", "data_base64")}
    content_type = media_type(attributes.get("datacontenttype"))
    if "data_base64" in document:
        try:
            data: Any = base64.b64decode(str(document["data_base64"]), validate=True)
        except (binascii.Error, ValueError):
            raise DecodeError("not_json", "data_base64 is not base64") from None
    else:
        data = document.get("data")
    return WireEvent(attributes, data, content_type)
