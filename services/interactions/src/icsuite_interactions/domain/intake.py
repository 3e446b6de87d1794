"""What each consumed event does to its record, decided on the record's state (pure: no I/O).

Events of one contact may come in any order and more than once: each event only sets what it owns
(``started`` the header, a segment its own entry whose end only rises, ``ended`` the media item's end), so
any order gives the same record. An event for a closed record is kept in ``late_events`` and changes
nothing else (:attr:`Record.read_only`). A decision answers the new record and the events it causes, or
``None`` when the event changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from icsuite_contracts.base import Event
from icsuite_contracts.callbacks_v1 import (
    CallbackAttemptFailed,
    CallbackCancelled,
    CallbackCompleted,
    CallbackExpired,
    CallbackStarted,
)
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.contacts_v1 import ContactEnded, ContactSegmentRecorded, ContactStarted
from icsuite_contracts.followups_v1 import FollowupCreated
from icsuite_contracts.identity_v1 import ContactIdentified

from . import caps, events
from .errors import InvalidError
from .ids import derived_id
from .record import (
    AGENT_SEGMENT_KINDS,
    Activity,
    Identification,
    LateEvent,
    LinkedObject,
    MediaItem,
    Record,
    Segment,
    changed,
)

Decision = tuple[Record, list[Event]]
Apply = Callable[[Record], "Decision | None"]
LINK_RANK = {"automatic": 1, "confirmed": 2}


class SegmentEndsBeforeStart(InvalidError):
    """A segment that ends before it starts can never apply."""


def receive(record: Record | None, interaction_id: str, cause: Envelope, now: datetime, apply: Apply) -> Decision | None:
    """Apply one consumed event to its record (made on first sight, in any order), or keep it as late."""
    current = record if record is not None else Record(interaction_id, created_at=now)
    if current.read_only:
        return _kept_late(current, cause, now), []
    return apply(current)


def _kept_late(record: Record, cause: Envelope, now: datetime) -> Record:
    if len(record.late_events) >= caps.LATE_EVENTS:
        return changed(record, late_events_dropped=record.late_events_dropped + 1)
    late = LateEvent(cause.id, cause.type, cause.source, now, cause.data.model_dump(mode="json"))
    return changed(record, late_events=(*record.late_events, late))


def _item(record: Record, media_item_id: str) -> MediaItem:
    return record.media.get(media_item_id) or MediaItem(media_item_id)


def _with_item(record: Record, item: MediaItem) -> dict[str, MediaItem]:
    return {**record.media, item.media_item_id: item}


def contact_started(record: Record, event: ContactStarted) -> Decision | None:
    if record.opened_at is not None:
        return None  # opened already: a redelivery under another id changes nothing
    item = changed(_item(record, event.contact_id), media=event.channel, direction=event.direction,
                   started_at=event.started_at)
    opened = changed(record, origin="contact", contact_id=event.contact_id, channel=event.channel,
                     direction=event.direction, opened_at=event.started_at, from_address=event.from_address,
                     to_address=event.to_address, queue=event.queue, account_hint=event.account_hint,
                     media=_with_item(record, item))
    return opened, [events.opened(opened)]


def contact_segment(record: Record, event: ContactSegmentRecorded) -> Decision:
    if event.ended_at is not None and event.ended_at < event.started_at:
        raise SegmentEndsBeforeStart(f"segment {event.segment_id} ends before it starts")
    item = _item(record, event.contact_id)
    before = item.segments.get(event.segment_id)
    ends = [t for t in (event.ended_at, before.ended_at if before else None) if t is not None]
    segment = Segment(event.segment_id, event.kind, event.started_at, event.agent_id, event.queue,
                      max(ends) if ends else None)  # the end time only rises: a running copy never undoes it
    item = changed(item, segments={**item.segments, event.segment_id: segment})
    handled = event.kind in AGENT_SEGMENT_KINDS and event.agent_id is not None
    return changed(record, contact_id=event.contact_id, media=_with_item(record, item),
                   has_agent=record.has_agent or handled,
                   agent_ids=record.with_agents(event.agent_id) if handled else record.agent_ids), []


def contact_ended(record: Record, event: ContactEnded, now: datetime, grace: timedelta) -> Decision:
    """The media item ends; the record is due for the self-service check once the grace has passed."""
    item = changed(_item(record, event.contact_id), ended_at=event.ended_at, end_reason=event.reason)
    return changed(record, contact_id=event.contact_id, contact_ended=True, media=_with_item(record, item),
                   self_service_due_at=now + grace), []


def contact_identified(record: Record, event: ContactIdentified) -> Decision | None:
    """A unique automatic match links the account as ``automatic``, a confirmation as ``confirmed``.

    A confirmation outranks an automatic match whatever their order; among equals the later one wins.
    """
    if event.account_id is None:
        return None  # several candidates or none: nothing is linked until an agent confirms one
    kind = "confirmed" if event.confirmed else "automatic"
    current = record.identification
    if current is not None and LINK_RANK[current.kind] > LINK_RANK[kind]:
        return None
    linked = changed(record, contact_id=event.contact_id, account_id=event.account_id,
                     business_agreement_id=event.business_agreement_id, premise_id=event.premise_id,
                     identification=Identification(kind, event.method, event.agent_id),
                     agent_ids=record.with_agents(event.agent_id))
    if _link_of(linked) == _link_of(record):
        return linked, []
    linked = changed(linked, link_sequence=record.link_sequence + 1)
    return linked, [events.account_linked(linked)]


def _link_of(record: Record) -> tuple[object, ...]:
    kind = record.identification.kind if record.identification else None
    return record.account_id, record.business_agreement_id, record.premise_id, kind


def callback_started(record: Record, event: CallbackStarted, cause_id: str) -> Decision | None:
    """The outbound record of one callback attempt, with the activity ``callback_executed``."""
    if record.opened_at is not None:
        return None
    media_item_id = f"{event.callback_id}#{event.attempt}"
    item = MediaItem(media_item_id, media="phone", direction="outbound", started_at=event.at)
    activity = Activity(derived_id("act", cause_id), "callback_executed", event.at, event.agent_id,
                        _strings(callback_id=event.callback_id, attempt=str(event.attempt),
                                 reason_code=event.reason_code))
    opened = changed(record, origin="callback", callback_id=event.callback_id, attempt=event.attempt,
                     channel="phone", direction="outbound", opened_at=event.at, to_address=event.dial_number,
                     account_id=event.account_id or record.account_id, agent_ids=record.with_agents(event.agent_id),
                     media=_with_item(record, item), activities=(*record.activities, activity),
                     linked_objects=_linked(record, LinkedObject("callback", event.callback_id)),
                     attributes=dict(event.attributes or {}))
    return opened, [events.opened(opened, event.agent_id), events.activity_recorded(opened, activity)]


CallbackEnd = CallbackCompleted | CallbackAttemptFailed | CallbackExpired | CallbackCancelled


def callback_ending(event: CallbackEnd) -> tuple[str, str | None] | None:
    """The outcome and the closing agent a callback's outbound records are closed with, when the callback
    completed, failed for good, expired or was cancelled; ``None`` while it goes on (a retry)."""
    if isinstance(event, CallbackCompleted):
        return event.outcome, event.agent_id
    if isinstance(event, CallbackAttemptFailed):
        return ("callback_failed", event.agent_id) if event.final else None
    if isinstance(event, CallbackExpired):
        return "callback_expired", None
    return "callback_cancelled", event.by


def followup_created(record: Record, event: FollowupCreated, cause_id: str) -> Decision | None:
    """A follow-up created from this record: the activity ``followup_created`` and a linked object."""
    if len(record.activities) >= caps.ACTIVITIES:
        return changed(record, linked_objects=_linked(record, LinkedObject("followup", event.followup_id))), []
    activity = Activity(derived_id("act", cause_id), "followup_created", event.created_at, event.created_by,
                        _strings(followup_id=event.followup_id, type=event.type, status=event.status))
    noted = changed(record, activities=(*record.activities, activity),
                    linked_objects=_linked(record, LinkedObject("followup", event.followup_id)))
    return noted, [events.activity_recorded(noted, activity)]


def _linked(record: Record, linked: LinkedObject) -> tuple[LinkedObject, ...]:
    if linked in record.linked_objects or len(record.linked_objects) >= caps.LINKED_OBJECTS:
        return record.linked_objects
    return (*record.linked_objects, linked)


def _strings(**values: str | None) -> Mapping[str, str]:
    return {k: v for k, v in values.items() if v is not None}
