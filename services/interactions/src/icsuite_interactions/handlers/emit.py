"""Turning a decision's event data into the envelopes the store publishes through the record's outbox."""

from __future__ import annotations

from icsuite_chassis.store import Change
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope

from ..domain.events import SOURCE
from ..domain.intake import Decision
from ..domain.record import Record

_PURPOSE = {"ic.interaction.opened.v1": "opened", "ic.interaction.account-linked.v1": "account-linked",
            "ic.interaction.activity-recorded.v1": "activity", "ic.interaction.closed.v1": "closed"}


def caused_by(cause: Envelope, decision: Decision | None, scope: str = "") -> Change[Record] | None:
    """The change of a consumed event: its events' ids derive from the cause, the same on every retry."""
    if decision is None:
        return None
    record, data = decision
    return Change(record, [
        new_envelope(d, source=SOURCE, id=derive_event_id(cause.id, scope + _PURPOSE.get(d.ce_type, d.ce_type)),
                     correlation_id=cause.correlation_id or cause.id, causation_id=cause.id) for d in data])


def commanded(decision: Decision, *, correlation_id: str, derive: tuple[str, str] | None = None) -> Change[Record]:
    """The change of a gateway command or a job: fresh event ids (a retry decides again, only one is stored),
    or, for a decision that causes one event, the id ``derive_event_id(*derive)`` where every replica and
    release must name that event the same way."""
    record, data = decision
    event_id = derive_event_id(*derive) if derive else None
    return Change(record, [new_envelope(d, source=SOURCE, correlation_id=correlation_id, id=event_id) for d in data])
