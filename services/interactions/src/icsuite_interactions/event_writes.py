"""What each consumed event does to its interaction record, as an order-independent MongoDB update.

Every event owns the fields it sets: ``started`` sets channel, direction and opened_at; a segment sets
its own entry (keyed by segment id) and raises the segment's end time with ``$max``; ``ended`` sets the
media item's end. So the same events in any order, and any of them twice, give the same record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from icsuite_chassis.consumer import Reject
from icsuite_contracts.callbacks_v1 import CallbackStarted
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope
from icsuite_contracts.contacts_v1 import ContactEnded, ContactSegmentRecorded, ContactStarted
from icsuite_contracts.followups_v1 import FollowupCreated
from icsuite_contracts.identity_v1 import ContactIdentified

from .domain import events
from .domain.ids import derived_id, field_key, interaction_id_for_callback, interaction_id_for_contact
from .domain.record import AGENT_SEGMENT_KINDS, Activity
from .repository import EventWrite


def _late_entry(envelope: Envelope, now: datetime) -> dict[str, Any]:
    return {"event_id": envelope.id, "type": envelope.type, "source": envelope.source, "received_at": now,
            "data": envelope.data.model_dump(mode="json")}


def _emit(cause: Envelope, purpose: str, data: Any) -> Envelope:
    return new_envelope(data, source=events.SOURCE, id=derive_event_id(cause.id, purpose),
                        correlation_id=cause.correlation_id or cause.id, causation_id=cause.id)


def _write(envelope: Envelope, interaction_id: str, update: dict[str, Any], now: datetime,
           publish: tuple[Envelope, ...] = (), unless_present: str | None = None) -> EventWrite:
    return EventWrite(interaction_id=interaction_id, event_id=envelope.id, update=update,
                      late_entry=_late_entry(envelope, now), now=now, publish=publish, unless_present=unless_present)


def contact_started(envelope: Envelope, now: datetime) -> EventWrite:
    event: ContactStarted = envelope.data  # type: ignore[assignment]
    interaction_id = interaction_id_for_contact(event.contact_id)
    media = f"media.{field_key(event.contact_id)}"
    fields = {"origin": "contact", "contact_id": event.contact_id, "channel": event.channel,
              "direction": event.direction, "opened_at": event.started_at}
    update = {"$set": {**fields, "from_address": event.from_address, "to_address": event.to_address,
                       "queue": event.queue, "account_hint": event.account_hint,
                       f"{media}.media_item_id": event.contact_id, f"{media}.channel": event.channel,
                       f"{media}.direction": event.direction, f"{media}.started_at": event.started_at}}
    opened = _emit(envelope, "opened", events.opened(interaction_id, fields))
    return _write(envelope, interaction_id, update, now, (opened,), unless_present="opened_at")


def contact_segment(envelope: Envelope, now: datetime) -> EventWrite:
    event: ContactSegmentRecorded = envelope.data  # type: ignore[assignment]
    if event.ended_at is not None and event.ended_at < event.started_at:
        raise Reject(f"segment {event.segment_id} ends before it starts")
    media = f"media.{field_key(event.contact_id)}"
    segment = f"{media}.segments.{field_key(event.segment_id)}"
    update: dict[str, Any] = {"$set": {
        "contact_id": event.contact_id, f"{media}.media_item_id": event.contact_id,
        f"{segment}.segment_id": event.segment_id, f"{segment}.kind": event.kind,
        f"{segment}.agent_id": event.agent_id, f"{segment}.queue": event.queue,
        f"{segment}.started_at": event.started_at,
    }}
    if event.ended_at is not None:
        update["$max"] = {f"{segment}.ended_at": event.ended_at}
    if event.kind in AGENT_SEGMENT_KINDS and event.agent_id:
        update["$set"]["has_agent"] = True
        update["$addToSet"] = {"agent_ids": event.agent_id}
    return _write(envelope, interaction_id_for_contact(event.contact_id), update, now)


def contact_ended(envelope: Envelope, now: datetime) -> EventWrite:
    event: ContactEnded = envelope.data  # type: ignore[assignment]
    media = f"media.{field_key(event.contact_id)}"
    update = {"$set": {"contact_id": event.contact_id, "contact_ended": True,
                       f"{media}.media_item_id": event.contact_id, f"{media}.ended_at": event.ended_at,
                       f"{media}.end_reason": event.reason}}
    return _write(envelope, interaction_id_for_contact(event.contact_id), update, now)


def contact_identified(envelope: Envelope, now: datetime) -> EventWrite | None:
    """A confirmed identification links account, business agreement and premise; others change nothing."""
    event: ContactIdentified = envelope.data  # type: ignore[assignment]
    if not event.confirmed or event.account_id is None:
        return None
    interaction_id = interaction_id_for_contact(event.contact_id)
    update: dict[str, Any] = {"$set": {
        "contact_id": event.contact_id, "account_id": event.account_id,
        "business_agreement_id": event.business_agreement_id, "premise_id": event.premise_id,
        "identified_by": {"method": event.method, "agent_id": event.agent_id},
    }}
    if event.agent_id:
        update["$addToSet"] = {"agent_ids": event.agent_id}
    linked = _emit(envelope, "account-linked", events.account_linked(
        interaction_id, event.contact_id, event.account_id, event.business_agreement_id, event.premise_id))
    return _write(envelope, interaction_id, update, now, (linked,))


def callback_started(envelope: Envelope, now: datetime) -> EventWrite:
    """An outbound interaction for one callback attempt, with the activity ``callback_executed``."""
    event: CallbackStarted = envelope.data  # type: ignore[assignment]
    interaction_id = interaction_id_for_callback(event.callback_id, event.attempt)
    media_item_id = f"{event.callback_id}#{event.attempt}"
    media = f"media.{field_key(media_item_id)}"
    fields = {"origin": "callback", "callback_id": event.callback_id, "channel": "phone",
              "direction": "outbound", "opened_at": event.at, "agent_id": event.agent_id,
              "account_id": event.account_id}
    activity = Activity(activity_id=derived_id("act", envelope.id), kind="callback_executed", at=event.at,
                        agent_id=event.agent_id, details=_strings(callback_id=event.callback_id,
                                                                  attempt=str(event.attempt),
                                                                  reason_code=event.reason_code))
    update: dict[str, Any] = {
        "$set": {**{k: v for k, v in fields.items() if k not in ("agent_id", "account_id")},
                 "attempt": event.attempt, "to_address": event.dial_number,
                 f"{media}.media_item_id": media_item_id, f"{media}.channel": "phone",
                 f"{media}.direction": "outbound", f"{media}.started_at": event.at},
        "$addToSet": {"agent_ids": event.agent_id, "linked_objects": {"type": "callback", "id": event.callback_id}},
        "$push": {"activities": activity_document(activity)},
    }
    if event.account_id:
        update["$set"]["account_id"] = event.account_id
    publish = (_emit(envelope, "opened", events.opened(interaction_id, fields)),
               _emit(envelope, "activity", events.activity_recorded(interaction_id, activity, event.account_id)))
    return _write(envelope, interaction_id, update, now, publish)


def followup_created(envelope: Envelope, now: datetime) -> EventWrite | None:
    """A follow-up created from an interaction: the activity ``followup_created`` and a linked object."""
    event: FollowupCreated = envelope.data  # type: ignore[assignment]
    if event.source.type != "interaction":
        return None
    interaction_id = event.source.id
    activity = Activity(activity_id=derived_id("act", envelope.id), kind="followup_created", at=event.created_at,
                        agent_id=event.created_by, details=_strings(followup_id=event.followup_id,
                                                                    type=event.type, status=event.status))
    update = {"$push": {"activities": activity_document(activity)},
              "$addToSet": {"linked_objects": {"type": "followup", "id": event.followup_id}}}
    recorded = _emit(envelope, "activity", events.activity_recorded(interaction_id, activity, event.account_id))
    return _write(envelope, interaction_id, update, now, (recorded,))


def _strings(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


def activity_document(activity: Activity) -> dict[str, Any]:
    return {"activity_id": activity.activity_id, "kind": activity.kind, "at": activity.at,
            "agent_id": activity.agent_id, "details": dict(activity.details),
            "media_item_id": activity.media_item_id}
