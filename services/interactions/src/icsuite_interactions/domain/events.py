"""The ``ic.interactions.v1`` events a record's changes cause, built from the record's state."""

from __future__ import annotations

from icsuite_contracts.interactions_v1 import (
    ActivityRecorded,
    InteractionAccountLinked,
    InteractionClosed,
    InteractionOpened,
    MediaItemAdded,
    NoteAdded,
)

from .record import Activity, MediaItem, Note, Record

SOURCE = "/interactions"


def opened(record: Record, agent_id: str | None = None) -> InteractionOpened:
    assert record.origin is not None and record.channel is not None and record.direction is not None
    assert record.opened_at is not None
    return InteractionOpened(
        interaction_id=record.interaction_id, contact_id=record.contact_id, callback_id=record.callback_id,
        origin=record.origin, channel=record.channel, direction=record.direction,  # type: ignore[arg-type]
        account_id=record.account_id, agent_id=agent_id, opened_at=record.opened_at,
    )


def account_linked(record: Record) -> InteractionAccountLinked:
    assert record.account_id is not None
    return InteractionAccountLinked(
        interaction_id=record.interaction_id, contact_id=record.contact_id, account_id=record.account_id,
        business_agreement_id=record.business_agreement_id, premise_id=record.premise_id,
        identification=record.identification.kind if record.identification else None,  # type: ignore[arg-type]
        link_sequence=record.link_sequence)


def activity_recorded(record: Record, activity: Activity) -> ActivityRecorded:
    return ActivityRecorded(
        interaction_id=record.interaction_id, activity_id=activity.activity_id, kind=activity.kind,
        at=activity.at, agent_id=activity.agent_id, account_id=record.account_id, details=dict(activity.details))


def note_added(record: Record, note: Note) -> NoteAdded:
    return NoteAdded(interaction_id=record.interaction_id, account_id=record.account_id, note_id=note.note_id,
                     type=note.type, language=note.language, text=note.text, author=note.author,
                     created_at=note.created_at)


def closed(record: Record) -> InteractionClosed:
    assert record.outcome is not None and record.closed_at is not None
    return InteractionClosed(
        interaction_id=record.interaction_id, contact_id=record.contact_id, account_id=record.account_id,
        business_agreement_id=record.business_agreement_id, premise_id=record.premise_id, outcome=record.outcome,
        result=record.result, reason_code=record.reason_code, duration_s=record.duration_s, closed_at=record.closed_at,
        agent_id=record.closed_by, agent_ids=list(record.agent_ids))


def media_item_added(record: Record, item: MediaItem) -> MediaItemAdded:
    assert item.media is not None and item.direction is not None and item.started_at is not None
    return MediaItemAdded(interaction_id=record.interaction_id, account_id=record.account_id,
                          media_item_id=item.media_item_id, media=item.media,  # type: ignore[arg-type]
                          direction=item.direction, started_at=item.started_at,  # type: ignore[arg-type]
                          ended_at=item.ended_at)
