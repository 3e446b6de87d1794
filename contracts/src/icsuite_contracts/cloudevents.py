"""CloudEvents 1.0 in Kafka binary mode: envelopes, Kafka records and outbox documents.

Producers build an :class:`Envelope` with :func:`new_envelope` and turn it into a :class:`KafkaRecord`
with :func:`to_kafka`. Consumers read with :func:`from_kafka`, which ignores unknown fields at every
nesting level (tolerant reading) and raises :class:`DecodeError` for anything it cannot read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from .base import Event
from .registry import model_for_type

__all__ = [
    "CONTENT_TYPE",
    "EVENT_ID_NAMESPACE",
    "MAX_EVENT_BYTES",
    "SPEC_VERSION",
    "DecodeError",
    "DecodeErrorKind",
    "Envelope",
    "KafkaRecord",
    "derive_event_id",
    "from_document",
    "from_kafka",
    "new_envelope",
    "to_document",
    "to_kafka",
]

MAX_EVENT_BYTES = 512 * 1024  # well below the broker's 1 MiB message limit, so the check can fire
"""The largest event body (JSON data) the suite writes or reads: 1 MiB."""
SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
EVENT_ID_NAMESPACE = uuid.UUID("5b0c3f2e-8d1a-5c7e-9f43-6a2d1e0b7c94")
"""The namespace of :func:`derive_event_id`. Never change it: derived ids would change with it."""

DecodeErrorKind = Literal["not_json", "invalid_model", "unknown_type", "missing_header", "too_large"]

_TIME = TypeAdapter(AwareDatetime)


class DecodeError(Exception):
    """A message that cannot be read; ``kind`` says why (and decides nothing but the DLQ record)."""

    def __init__(self, kind: DecodeErrorKind, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: DecodeErrorKind = kind
        self.message = message


@dataclass(frozen=True)
class Envelope:
    """One CloudEvent: its attributes and its data."""

    id: str
    type: str
    source: str
    time: datetime
    subject: str | None
    correlation_id: str | None
    causation_id: str | None
    data: Event

    def __post_init__(self) -> None:
        if not self.id or not self.source:
            raise ValueError("an envelope needs a non-empty id and source")
        if self.type != self.data.ce_type:
            raise ValueError(f"envelope type {self.type!r} does not match data type {self.data.ce_type!r}")
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise ValueError("envelope time must carry a UTC offset")

    @property
    def key(self) -> str:
        """The Kafka key: the aggregate id of the data."""
        return self.data.key()

    @property
    def topic(self) -> str:
        """The Kafka topic of the data's event type."""
        return self.data.topic


@dataclass(frozen=True)
class KafkaRecord:
    """What a producer sends: topic, key, value and headers, all bytes."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def derive_event_id(cause_id: str, purpose: str) -> str:
    """A deterministic event id for the event emitted for ``purpose`` while handling ``cause_id``.

    A handler that is retried after a crash emits the same id again, so consumers can drop the duplicate.
    """
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{cause_id}\x1f{purpose}"))


def new_envelope(
    data: Event,
    *,
    source: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    subject: str | None = None,
    id: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Wrap ``data`` in an envelope; a random id and the current UTC time unless given."""
    return Envelope(
        id=id or str(uuid.uuid4()),
        type=data.ce_type,
        source=source,
        time=time or datetime.now(UTC),
        subject=subject,
        correlation_id=correlation_id,
        causation_id=causation_id,
        data=data,
    )


def _format_time(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # MongoDB hands back naive UTC datetimes
    return _TIME.validate_python(value)


def to_kafka(env: Envelope) -> KafkaRecord:
    """The Kafka record of ``env`` in binary mode; ``ValueError`` if the data exceeds MAX_EVENT_BYTES."""
    value = env.data.model_dump_json().encode()
    if len(value) > MAX_EVENT_BYTES:
        raise ValueError(f"{env.type} data is {len(value)} bytes, more than {MAX_EVENT_BYTES}")
    attributes = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": env.id,
        "ce_type": env.type,
        "ce_source": env.source,
        "ce_time": _format_time(env.time),
        "ce_subject": env.subject,
        "ce_correlationid": env.correlation_id,
        "ce_causationid": env.causation_id,
        "content-type": CONTENT_TYPE,
    }
    headers = [(name, text.encode()) for name, text in attributes.items() if text is not None]
    return KafkaRecord(topic=env.topic, key=env.key.encode(), value=value, headers=headers)


HeaderValue = str | bytes | bytearray | memoryview | None
Headers = Mapping[str, HeaderValue] | Iterable[tuple[str | bytes, HeaderValue]]


def _header_text(raw: HeaderValue) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    try:
        return bytes(raw).decode()
    except UnicodeDecodeError:
        return None


def _normalize_headers(headers: Headers | None) -> dict[str, str]:
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    result: dict[str, str] = {}
    for name, raw in pairs:
        key = name.decode(errors="replace") if isinstance(name, bytes) else name
        text = _header_text(raw)
        if text is not None:
            result[key.lower()] = text
    return result


def _required(attributes: Mapping[str, Any], name: str) -> Any:
    value = attributes.get(name)
    if value is None or value == "":
        raise DecodeError("missing_header", f"{name} is missing")
    return value


def _model(ce_type: str) -> type[Event]:
    try:
        return model_for_type(ce_type)
    except KeyError:
        raise DecodeError("unknown_type", f"unknown event type {ce_type!r}") from None


def _validate(model: type[Event], payload: Any) -> Event:
    """Tolerant reading: the producer model, with unknown fields ignored at every level."""
    try:
        return model.model_validate(payload, extra="ignore")
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<data>'}: {err['msg']}" for err in exc.errors()
        )
        raise DecodeError("invalid_model", f"{model.ce_type}: {problems}") from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(value: bytes) -> Any:
    try:
        return json.loads(value, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError("not_json", f"body is not JSON: {exc}") from None


def from_kafka(headers: Headers | None, value: bytes | str | None) -> Envelope:
    """Read a Kafka record in binary mode; unknown fields in the data are ignored.

    Checks, in order: size (``too_large``), the required ``ce_*`` headers and their values
    (``missing_header``), the event type (``unknown_type``), the body (``not_json``) and the model
    (``invalid_model``).
    """
    body = value.encode() if isinstance(value, str) else bytes(value or b"")
    if len(body) > MAX_EVENT_BYTES:
        raise DecodeError("too_large", f"body is {len(body)} bytes, more than {MAX_EVENT_BYTES}")
    attrs = _normalize_headers(headers)
    spec = _required(attrs, "ce_specversion")
    if spec != SPEC_VERSION:
        raise DecodeError("missing_header", f"ce_specversion {spec!r} is not {SPEC_VERSION}")
    event_id, ce_type, source = (_required(attrs, n) for n in ("ce_id", "ce_type", "ce_source"))
    try:
        time = _parse_time(_required(attrs, "ce_time"))
    except ValidationError:
        raise DecodeError("missing_header", "ce_time is not an RFC 3339 time with offset") from None
    content_type = attrs.get("content-type", CONTENT_TYPE).split(";")[0].strip().lower()
    model = _model(ce_type)
    if content_type != CONTENT_TYPE:
        raise DecodeError("not_json", f"content-type {content_type!r} is not {CONTENT_TYPE}")
    data = _validate(model, _parse_json(body))
    return Envelope(
        id=event_id,
        type=ce_type,
        source=source,
        time=time,
        subject=attrs.get("ce_subject"),
        correlation_id=attrs.get("ce_correlationid"),
        causation_id=attrs.get("ce_causationid"),
        data=data,
    )


def to_document(env: Envelope) -> dict[str, Any]:
    """A JSON-safe dict of ``env`` for storing in a MongoDB outbox (``topic`` and ``key`` included)."""
    return {
        "id": env.id,
        "type": env.type,
        "source": env.source,
        "time": _format_time(env.time),
        "subject": env.subject,
        "correlation_id": env.correlation_id,
        "causation_id": env.causation_id,
        "topic": env.topic,
        "key": env.key,
        "data": env.data.model_dump(mode="json"),
    }


def from_document(doc: Mapping[str, Any]) -> Envelope:
    """The envelope stored by :func:`to_document`; other keys (``_id``, relay state) are ignored."""
    event_id, ce_type, source = (_required(doc, n) for n in ("id", "type", "source"))
    try:
        time = _parse_time(_required(doc, "time"))
    except ValidationError:
        raise DecodeError("missing_header", "time is not an RFC 3339 time with offset") from None
    data = _validate(_model(ce_type), _required(doc, "data"))
    return Envelope(
        id=event_id,
        type=ce_type,
        source=source,
        time=time,
        subject=doc.get("subject"),
        correlation_id=doc.get("correlation_id"),
        causation_id=doc.get("causation_id"),
        data=data,
    )
