"""What the service sees of a consumed event: its attributes, its data as JSON, and whom it concerns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

ATTRIBUTES = ("ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "ce_correlationid", "ce_causationid")
"""CloudEvents attributes visible to conditions beside the data fields, e.g. ``event.ce_type``."""


@dataclass(frozen=True)
class Observation:
    event_id: str
    type: str
    time: datetime
    data: dict[str, Any]
    attributes: dict[str, Any]

    @property
    def account_id(self) -> str | None:
        return _text(self.data.get("account_id"))

    @property
    def contact_id(self) -> str | None:
        return _text(self.data.get("contact_id"))

    @property
    def agent_id(self) -> str | None:
        return _text(self.data.get("agent_id"))

    def activation_event(self) -> dict[str, Any]:
        """The ``event`` a condition sees: the data fields and the ``ce_*`` attributes that are set.

        A field whose value is null is left out, as an unset field: ``has(event.account_id)`` (CEL: is the key
        there) then says whether the event names an account. Maps inside fields are kept as they are.
        """
        return {k: v for part in (self.data, self.attributes) for k, v in part.items() if v is not None}


def observe(*, event_id: str, ce_type: str, time: datetime, data: dict[str, Any], source: str = "",
            subject: str | None = None, correlation_id: str | None = None,
            causation_id: str | None = None) -> Observation:
    attributes = {"ce_id": event_id, "ce_type": ce_type, "ce_source": source, "ce_time": time.isoformat(),
                  "ce_subject": subject, "ce_correlationid": correlation_id, "ce_causationid": causation_id}
    return Observation(event_id=event_id, type=ce_type, time=time, data=data, attributes=attributes)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
