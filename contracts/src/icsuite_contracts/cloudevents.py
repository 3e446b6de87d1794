"""CloudEvents 1.0 on Kafka: envelopes, Kafka records and outbox documents.

Producers build an :class:`Envelope` with :func:`new_envelope` and turn it into a :class:`KafkaRecord`
in binary mode with :func:`to_kafka`. Consumers read with :func:`from_kafka`, which takes binary and
structured mode (see :mod:`.cloudevents_wire`), ignores unknown fields at every nesting level (tolerant
reading) and raises :class:`DecodeError` for anything it cannot read.

Every envelope has a subject (the aggregate id, the Kafka key) and a correlation id: the one it was
given, else :func:`default_correlation_id` of its data, the same rule in every service. The W3C
``traceparent`` travels as the CloudEvents extension attribute of the same name (``ce_traceparent``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, TypeAdapter, ValidationError

from .base import Event
from .cloudevents_wire import (
    STRUCTURED_CONTENT_TYPE,
    DecodeError,
    DecodeErrorKind,
    Headers,
    WireEvent,
    binary_headers,
    media_type,
    normalize_headers,
    parse_json,
    read_binary,
    read_structured,
)
from .registry import model_for_type
from .tracecontext import traceparent_for

__all__ = [
    "CONTENT_TYPE",
    "EVENT_ID_NAMESPACE",
    "MAX_EVENT_BYTES",
    "SPEC_VERSION",
    "STRUCTURED_CONTENT_TYPE",
    "DecodeError",
    "DecodeErrorKind",
    "Envelope",
    "KafkaRecord",
    "default_correlation_id",
    "derive_event_id",
    "from_document",
    "from_kafka",
    "new_envelope",
    "to_document",
    "to_kafka",
    "valid_traceparent",
]

MAX_EVENT_BYTES = 512 * 1024  # well below the broker's 1 MiB message limit, so the check can fire
"""The largest event body (JSON data) the suite writes or reads: 1 MiB."""
SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
EVENT_ID_NAMESPACE = uuid.UUID("5b0c3f2e-8d1a-5c7e-9f43-6a2d1e0b7c94")
"""The namespace of :func:`derive_event_id`. Never change it: derived ids would change with it."""

_TIME = TypeAdapter(AwareDatetime)
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$")


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
    traceparent: str | None = None
    """The W3C trace context of the operation that emitted this event, if it was traced."""

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


def default_correlation_id(data: Event) -> str:
    """The correlation id of an event that arrived without one: its contact, else its aggregate id.

    Every service applies this one rule, so all events a contact causes share the contact's id.
    """
    contact_id = getattr(data, "contact_id", None)
    return contact_id if isinstance(contact_id, str) and contact_id else data.key()


def valid_traceparent(value: str | None) -> str | None:
    """``value`` if it is a W3C ``traceparent`` (version ``ff`` and all-zero ids refused), else None."""
    if value is None:
        return None
    value = value.strip().lower()
    return value if _TRACEPARENT.match(value) and not value.startswith("ff") else None


def new_envelope(
    data: Event,
    *,
    source: str,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    subject: str | None = None,
    id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> Envelope:
    """Wrap ``data`` in an envelope.

    Unless given: a random id, the current UTC time, the aggregate id as subject, the correlation id
    of :func:`default_correlation_id` and the trace context of the operation running now (see
    :func:`.tracecontext.traceparent_for`).
    """
    return Envelope(
        id=id or str(uuid.uuid4()),
        type=data.ce_type,
        source=source,
        time=time or datetime.now(UTC),
        subject=subject or data.key(),
        correlation_id=correlation_id or default_correlation_id(data),
        causation_id=causation_id,
        data=data,
        traceparent=traceparent or traceparent_for(causation_id),
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
    headers = binary_headers({
        "specversion": SPEC_VERSION,
        "id": env.id,
        "type": env.type,
        "source": env.source,
        "time": _format_time(env.time),
        "subject": env.subject or env.key,
        "correlationid": env.correlation_id or default_correlation_id(env.data),
        "causationid": env.causation_id,
        "traceparent": env.traceparent,
    })
    return KafkaRecord(topic=env.topic, key=env.key.encode(), value=value, headers=headers)


def _required(attributes: Mapping[str, Any], name: str, prefix: str = "") -> Any:
    value = attributes.get(name)
    if value is None or value == "":
        raise DecodeError("missing_header", f"{prefix}{name} is missing")
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


def _attribute(attributes: Mapping[str, Any], name: str) -> str | None:
    value = attributes.get(name)
    return None if value is None or value == "" else str(value)


def _data_of(event: WireEvent) -> Any:
    if event.content_type != CONTENT_TYPE:
        raise DecodeError("not_json", f"content-type {event.content_type!r} is not {CONTENT_TYPE}")
    if isinstance(event.data, (bytes, bytearray)):
        return parse_json(bytes(event.data))
    return event.data


def from_kafka(headers: Headers | None, value: bytes | str | None) -> Envelope:
    """Read a Kafka record in binary or structured mode; unknown fields in the data are ignored.

    Checks, in order: size (``too_large``), the required attributes and their values
    (``missing_header``), the event type (``unknown_type``), the data's media type and JSON
    (``not_json``) and the model (``invalid_model``). A record without ``correlationid`` gets the
    one :func:`default_correlation_id` derives, so every reader continues a chain the same way.
    """
    body = value.encode() if isinstance(value, str) else bytes(value or b"")
    if len(body) > MAX_EVENT_BYTES:
        raise DecodeError("too_large", f"body is {len(body)} bytes, more than {MAX_EVENT_BYTES}")
    normalized = normalize_headers(headers)
    structured = media_type(normalized.get("content-type")) == STRUCTURED_CONTENT_TYPE
    event = read_structured(body) if structured else read_binary(normalized, body)
    attrs = event.attributes
    prefix = "" if structured else "ce_"
    spec = _required(attrs, "specversion", prefix)
    if spec != SPEC_VERSION:
        raise DecodeError("missing_header", f"{prefix}specversion {spec!r} is not {SPEC_VERSION}")
    event_id, ce_type, source = (_required(attrs, n, prefix) for n in ("id", "type", "source"))
    try:
        time = _parse_time(_required(attrs, "time", prefix))
    except ValidationError:
        raise DecodeError("missing_header", f"{prefix}time is not an RFC 3339 time with offset") from None
    model = _model(ce_type)
    data = _validate(model, _data_of(event))
    return Envelope(
        id=event_id,
        type=ce_type,
        source=source,
        time=time,
        subject=_attribute(attrs, "subject"),
        correlation_id=_attribute(attrs, "correlationid") or default_correlation_id(data),
        causation_id=_attribute(attrs, "causationid"),
        data=data,
        traceparent=valid_traceparent(_attribute(attrs, "traceparent") or normalized.get("traceparent")),
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
        "traceparent": env.traceparent,
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
        traceparent=doc.get("traceparent"),
    )
