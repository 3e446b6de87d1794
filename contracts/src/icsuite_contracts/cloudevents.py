"""CloudEvents 1.0 on Kafka: envelopes, Kafka records and outbox documents.

Producers build an :class:`Envelope` with :func:`new_envelope` (see :mod:`.cloudevents_envelope`) and
turn it into a :class:`KafkaRecord` in binary mode with :func:`to_kafka`. Consumers read with :func:`from_kafka`, which takes binary and
structured mode (see :mod:`.cloudevents_wire`), ignores unknown fields at every nesting level (tolerant
reading) and raises :class:`DecodeError` for anything it cannot read.

Every envelope has a subject (the aggregate id, the Kafka key) and a correlation id: the one it was
given, else :func:`default_correlation_id` of its data, the same rule in every service. The W3C
``traceparent`` travels as the CloudEvents extension attribute of the same name (``ce_traceparent``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from .base import Event
from .cloudevents_envelope import (
    CONTENT_TYPE,
    EVENT_ID_NAMESPACE,
    MAX_EVENT_BYTES,
    SPEC_VERSION,
    Envelope,
    KafkaRecord,
    default_correlation_id,
    derive_event_id,
    format_time,
    new_envelope,
    parse_time,
    valid_traceparent,
)
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


DataHook = Callable[[type[Event], Any], Any]
"""Turns an event's JSON data on its way to or from the wire: ``(model, data) -> data`` (the chassis's
crypto-shredding seals and opens the personal fields with it)."""


def to_kafka(env: Envelope, *, seal: DataHook | None = None) -> KafkaRecord:
    """The Kafka record of ``env`` in binary mode; ``ValueError`` if the data exceeds MAX_EVENT_BYTES.

    ``seal`` (optional) turns the JSON data before it is written (the personal fields encrypted)."""
    if seal is None:
        value = env.data.model_dump_json().encode()
    else:
        data = seal(type(env.data), env.data.model_dump(mode="json"))
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    if len(value) > MAX_EVENT_BYTES:
        raise ValueError(f"{env.type} data is {len(value)} bytes, more than {MAX_EVENT_BYTES}")
    headers = binary_headers({
        "specversion": SPEC_VERSION,
        "id": env.id,
        "type": env.type,
        "source": env.source,
        "time": format_time(env.time),
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


def from_kafka(headers: Headers | None, value: bytes | str | None, *, unseal: DataHook | None = None) -> Envelope:
    """Read a Kafka record in binary or structured mode; unknown fields in the data are ignored.

    Checks, in order: size (``too_large``), the required attributes and their values
    (``missing_header``), the event type (``unknown_type``), the data's media type and JSON
    (``not_json``) and the model (``invalid_model``). A record without ``correlationid`` gets the
    one :func:`default_correlation_id` derives, so every reader continues a chain the same way.
    ``unseal`` (optional) turns the JSON data before the model validates it (sealed fields opened).
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
        time = parse_time(_required(attrs, "time", prefix))
    except ValidationError:
        raise DecodeError("missing_header", f"{prefix}time is not an RFC 3339 time with offset") from None
    model = _model(ce_type)
    payload = _data_of(event)
    data = _validate(model, payload if unseal is None else unseal(model, payload))
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
        "time": format_time(env.time),
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
        time = parse_time(_required(doc, "time"))
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
