"""Turns what happened to a follow-up into its ``ic.followup.*.v1`` envelopes (pure: contract models only).

Event ids are derived from the follow-up, its version and what happened, so that a decision taken again
on a retried write carries the same ids and consumers drop the duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable

from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope
from icsuite_contracts.followups_v1 import (
    FollowupCreated,
    FollowupDue,
    FollowupNoteAdded,
    FollowupOverdue,
    FollowupStatusChanged,
    FollowupUpdated,
    SourceRef,
)

from .followup import (
    CameDue,
    FieldsChanged,
    Followup,
    FollowupEvent,
    FollowupOpened,
    NoteAppended,
    OverdueDetected,
    StatusChanged,
)

SOURCE = "/followups"


def _created(f: Followup) -> FollowupCreated:
    p = f.parties
    return FollowupCreated(
        followup_id=f.followup_id, account_id=p.get("account_id"),
        source=SourceRef(type=f.source_type, id=f.source_id),  # type: ignore[arg-type]
        type=f.type, channel=f.channel, status=f.status, priority=f.priority,  # type: ignore[arg-type]
        owner_id=p.get("owner_id"), due_at=f.schedule.due_at, planned_start=f.schedule.planned_start,
        planned_end=f.schedule.planned_end, reason_code=p.get("reason_code"), created_by=f.created_by,
        created_at=f.created_at, business_agreement_id=p.get("business_agreement_id"),
        premise_id=p.get("premise_id"), contact_person_id=p.get("contact_person_id"),
    )


def _data(f: Followup, event: FollowupEvent):  # type: ignore[no-untyped-def]
    common = {"followup_id": f.followup_id, "account_id": f.account_id}
    match event:
        case FollowupOpened(followup=created):
            return _created(created), "created"
        case NoteAppended(note=n):
            return FollowupNoteAdded(**common, note_id=n.note_id, type=n.type, language=n.language,  # type: ignore[arg-type]
                                     text=n.text, author=n.author, created_at=n.created_at), f"note:{n.note_id}"
        case FieldsChanged(changed=changed, at=at, by=by):
            return FollowupUpdated(**common, changed=list(changed), at=at, by=by), f"updated:{f.version}"
        case StatusChanged(old_status=old, new_status=new, at=at, by=by):
            return (FollowupStatusChanged(**common, old_status=old, new_status=new, at=at, by=by),
                    f"status:{f.version}")
        case OverdueDetected(due_at=due, at=at):
            return FollowupOverdue(**common, due_at=due, at=at), f"overdue:{due.isoformat()}"
        case CameDue(planned_start=start):
            return (FollowupDue(**common, owner_id=f.parties.get("owner_id"), type=f.type,  # type: ignore[arg-type]
                                planned_start=start), f"due:{f.version}:{start.isoformat()}")
    raise TypeError(f"no event for {event!r}")


def envelopes_for(followup: Followup, events: Iterable[FollowupEvent], *,
                  causation_id: str | None = None) -> list[Envelope]:
    """The envelopes of ``events``, in order, for ``followup`` as it is after them (correlated as it was created)."""
    return [new_envelope(data, source=SOURCE, id=derive_event_id(followup.followup_id, purpose),
                         subject=followup.followup_id, correlation_id=followup.correlation_id,
                         causation_id=causation_id)
            for data, purpose in (_data(followup, event) for event in events)]
