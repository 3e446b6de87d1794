"""Size limits checked when a change is made, before its events are stored in an outbox.

An event whose data is larger than :data:`MAX_EVENT_BYTES` (512 KiB, the suite's event limit) can never
be published: consumers refuse it, and the broker's 1 MiB message limit is not far above. Storing it
would jam the outbox of its record, so :func:`check_event_size` refuses the change instead. The refusal
is a problem answered 413 by a gateway (it names the field that makes the event too large); a consumer
handler that raises it dead-letters the triggering event at once, since a retry cannot make it smaller.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from icsuite_contracts.cloudevents import MAX_EVENT_BYTES, Envelope

from .problems import PayloadTooLarge

__all__ = ["MAX_EVENT_BYTES", "EventTooLarge", "check_event_size", "encoded_size", "largest_field"]


class EventTooLarge(PayloadTooLarge):
    """A change whose event would exceed the event size limit (413, ``event-too-large``)."""

    slug = "event-too-large"
    title = "Event too large"


def encoded_size(envelope: Envelope) -> int:
    """The bytes of the envelope's data as published (the Kafka record's value)."""
    data = envelope.data
    return len(data.__pydantic_serializer__.to_json(data))


def check_event_size(envelopes: Iterable[Envelope], *, limit: int = MAX_EVENT_BYTES) -> None:
    """Raise :class:`EventTooLarge` if the data of any of ``envelopes`` is larger than ``limit`` bytes."""
    for envelope in envelopes:
        size = encoded_size(envelope)
        if size > limit:
            field = largest_field(envelope.data.model_dump(mode="json"))
            raise EventTooLarge(
                f"the change would make a {envelope.type} event of {size} bytes, more than the limit of "
                f"{limit} bytes; {field or 'the data'} is too large",
                field=field, size_bytes=size, limit_bytes=limit, event_type=envelope.type)


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def largest_field(data: Any, path: str = "") -> str:
    """The path of the value that takes most room (``details.note``, ``activities[3].text``)."""
    children: list[tuple[str, Any]]
    if isinstance(data, dict):
        children = [(f"{path}.{key}" if path else str(key), value) for key, value in data.items()]
    elif isinstance(data, list):
        children = [(f"{path}[{index}]", value) for index, value in enumerate(data)]
    else:
        return path
    if not children:
        return path
    where, value = max(children, key=lambda child: _size(child[1]))
    if path and len(children) > 1 and _size(value) * 2 < _size(data):
        return path  # no single entry dominates: the map or list as a whole is too large
    return largest_field(value, where)
