"""The ``ic.interactions.v1`` events a record's changes emit, built from the record's state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from icsuite_contracts.interactions_v1 import (
    ActivityRecorded,
    InteractionAccountLinked,
    InteractionClosed,
    InteractionOpened,
    NoteAdded,
)

from .completion import Completion
from .record import Activity, Note

SOURCE = "/interactions"


def opened(interaction_id: str, fields: Mapping[str, Any]) -> InteractionOpened:
    return InteractionOpened(
        interaction_id=interaction_id, contact_id=fields.get("contact_id"), callback_id=fields.get("callback_id"),
        origin=fields["origin"], channel=fields["channel"], direction=fields["direction"],
        account_id=fields.get("account_id"), agent_id=fields.get("agent_id"), opened_at=fields["opened_at"],
    )


def account_linked(interaction_id: str, contact_id: str | None, account_id: str,
                   business_agreement_id: str | None, premise_id: str | None) -> InteractionAccountLinked:
    return InteractionAccountLinked(interaction_id=interaction_id, contact_id=contact_id, account_id=account_id,
                                    business_agreement_id=business_agreement_id, premise_id=premise_id)


def activity_recorded(interaction_id: str, activity: Activity, account_id: str | None) -> ActivityRecorded:
    return ActivityRecorded(
        interaction_id=interaction_id, activity_id=activity.activity_id, kind=activity.kind, at=activity.at,
        agent_id=activity.agent_id, account_id=account_id, details=dict(activity.details),
    )


def note_added(interaction_id: str, note: Note, account_id: str | None) -> NoteAdded:
    return NoteAdded(interaction_id=interaction_id, account_id=account_id, note_id=note.note_id, type=note.type,
                     language=note.language, text=note.text, author=note.author, created_at=note.created_at)


def closed(record: Mapping[str, Any], completion: Completion, fields: Mapping[str, Any],
           agent_ids: list[str]) -> InteractionClosed:
    return InteractionClosed(
        interaction_id=record["_id"], contact_id=record.get("contact_id"), account_id=record.get("account_id"),
        business_agreement_id=record.get("business_agreement_id"), outcome=completion.outcome,
        result=completion.result, reason_code=completion.reason_code, duration_s=fields.get("duration_s"),
        closed_at=completion.closed_at, agent_id=completion.closed_by, agent_ids=agent_ids,
    )
