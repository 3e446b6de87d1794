"""The CloudEvents 1.0 envelope of the suite: its attributes, its ids and its limits.

:func:`new_envelope` wraps an event's data; :func:`derive_event_id` gives the deterministic id of an
event a handler emits; :func:`default_correlation_id` is the one correlation rule of every service.
How an envelope becomes a Kafka record or an outbox document is in :mod:`.cloudevents`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, TypeAdapter

from .base import Event
from .tracecontext import traceparent_for

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


def format_time(value: datetime) -> str:
    """RFC 3339 with ``Z`` for UTC."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_time(value: Any) -> datetime:
    """An aware time; a naive one (as MongoDB answers) is UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # MongoDB hands back naive UTC datetimes
    return _TIME.validate_python(value)
