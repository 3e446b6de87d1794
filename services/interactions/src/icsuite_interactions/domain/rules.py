"""The gateway's decisions on one record: create, add a note, an activity, an attachment, complete, and the
self-service close. Each takes the record as stored (``None`` when there is none) and answers the new
record with the events it causes; every change goes through :func:`changeable`, where "a closed record is
read-only" is applied (the rule itself is :attr:`Record.read_only`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from . import caps, events
from .errors import CapReached, InteractionClosed, InteractionNotFound, NotAnAgentOfTheRecord, UnknownMediaItem
from .intake import Decision
from .record import OPEN, SELF_SERVICE, Activity, Attachment, MediaItem, Note, Record, ScratchPad, duration_s


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: the token's subject, and whether a supervisor's role is among its roles."""

    agent_id: str
    supervisor: bool = False


@dataclass(frozen=True)
class ManualRecord:
    interaction_id: str
    media_item_id: str
    channel: str
    direction: str = "inbound"
    opened_at: datetime | None = None
    agent_id: str | None = None
    account_id: str | None = None
    business_agreement_id: str | None = None
    premise_id: str | None = None


@dataclass(frozen=True)
class Completion:
    outcome: str
    result: str | None = None
    reason_code: str | None = None


def changeable(record: Record | None, interaction_id: str, actor: Actor) -> Record:
    """The record a gateway change may be made to, with the actor among its agents.

    Only an agent of the record or a supervisor may change it; an agent may take a record that has no
    agent yet and becomes its agent. A closed record is read-only for everyone.
    """
    if record is None:
        raise InteractionNotFound(interaction_id)
    if record.read_only:
        raise InteractionClosed(interaction_id)
    if not may_change(record, actor):
        raise NotAnAgentOfTheRecord(interaction_id, actor.agent_id)
    if len(record.agent_ids) >= caps.AGENTS and actor.agent_id not in record.agent_ids:
        return record
    return replace(record, agent_ids=record.with_agents(actor.agent_id))


def may_change(record: Record, actor: Actor) -> bool:
    return actor.supervisor or actor.agent_id in record.agent_ids or not record.agent_ids


def _check_cap(held: int, limit: int, what: str) -> None:
    if held >= limit:
        raise CapReached(what, limit)


def create_manual(cmd: ManualRecord, now: datetime) -> Decision:
    """A record for a contact no channel reported (a walk-in, a letter)."""
    opened_at = cmd.opened_at or now
    item = MediaItem(cmd.media_item_id, media=cmd.channel, direction=cmd.direction, started_at=opened_at)
    record = Record(cmd.interaction_id, created_at=now, origin="manual", channel=cmd.channel,
                    direction=cmd.direction, opened_at=opened_at, account_id=cmd.account_id,
                    business_agreement_id=cmd.business_agreement_id, premise_id=cmd.premise_id,
                    agent_ids=(cmd.agent_id,) if cmd.agent_id else (), media={item.media_item_id: item})
    return record, [events.opened(record, cmd.agent_id)]


def add_note(record: Record | None, interaction_id: str, actor: Actor, note: Note, activity_id: str) -> Decision:
    current = changeable(record, interaction_id, actor)
    _check_cap(len(current.notes), caps.NOTES, "notes")
    _check_cap(len(current.activities), caps.ACTIVITIES, "activities")
    listed = Activity(activity_id, "note_added", note.created_at, note.author, {"note_id": note.note_id})
    changed = replace(current, notes=(*current.notes, note), activities=(*current.activities, listed))
    return changed, [events.note_added(changed, note)]


def add_activity(record: Record | None, interaction_id: str, actor: Actor, activity: Activity) -> Decision:
    current = changeable(record, interaction_id, actor)
    _check_cap(len(current.activities), caps.ACTIVITIES, "activities")
    if activity.media_item_id is not None and activity.media_item_id not in current.media:
        raise UnknownMediaItem(activity.media_item_id)
    changed = replace(current, activities=(*current.activities, activity))
    return changed, [events.activity_recorded(changed, activity)]


def add_attachment(record: Record | None, interaction_id: str, actor: Actor, attachment: Attachment,
                   activity_id: str) -> Decision:
    current = changeable(record, interaction_id, actor)
    _check_cap(len(current.attachments), caps.ATTACHMENTS, "attachments")
    held = sum(a.size for a in current.attachments)
    if held + attachment.size > caps.ATTACHMENT_BYTES_PER_RECORD:
        raise CapReached("attachment bytes", caps.ATTACHMENT_BYTES_PER_RECORD, held_bytes=held)
    _check_cap(len(current.activities), caps.ACTIVITIES, "activities")
    listed = Activity(activity_id, "attachment_added", attachment.uploaded_at, attachment.uploaded_by, {
        "attachment_id": attachment.attachment_id, "name": attachment.name, "media_type": attachment.media_type,
        "size": str(attachment.size), "sha256": attachment.sha256})
    changed = replace(current, attachments=(*current.attachments, attachment),
                      activities=(*current.activities, listed))
    return changed, [events.activity_recorded(changed, listed)]


def add_media_item(record: Record | None, interaction_id: str, actor: Actor, item: MediaItem) -> Decision:
    """Another medium of the same interaction (a fax sent, an e-mail received)."""
    current = changeable(record, interaction_id, actor)
    _check_cap(len(current.media), caps.MEDIA_ITEMS, "media items")
    changed = replace(current, media={**current.media, item.media_item_id: item})
    return changed, [events.media_item_added(changed, item)]


def write_scratch_pad(record: Record | None, interaction_id: str, actor: Actor, pad: ScratchPad) -> Decision:
    """The scratch pad is written while the record is open; it stays, read-only, with the closed record."""
    return replace(changeable(record, interaction_id, actor), scratch_pad=pad), []


def closed(record: Record, completion: Completion, closed_at: datetime, closed_by: str | None,
           until: datetime | None = None) -> Record:
    """The record closed with ``completion``; it lasted until ``until`` (the close by default)."""
    return replace(record, status="closed", outcome=completion.outcome, result=completion.result,
                   reason_code=completion.reason_code, closed_at=closed_at, closed_by=closed_by,
                   agent_ids=record.with_agents(closed_by), self_service_due_at=None,
                   duration_s=duration_s(record.opened_at, until or closed_at))


def complete(record: Record | None, interaction_id: str, actor: Actor, completion: Completion,
             now: datetime) -> Decision:
    done = closed(changeable(record, interaction_id, actor), completion, now, actor.agent_id)
    return done, [events.closed(done)]


def bulk_blockers(account_id: str, interaction_ids: Sequence[str], records: Mapping[str, Record],
                  actor: Actor) -> list[dict[str, str]]:
    """Every record of ``interaction_ids`` that cannot be completed now, and why, in the order asked for."""
    blockers = []
    for interaction_id in interaction_ids:
        record = records.get(interaction_id)
        reason = ("not_found" if record is None else "closed" if record.read_only
                  else "other_account" if record.account_id != account_id
                  else "not_an_agent" if not may_change(record, actor) else None)
        if reason is not None:
            blockers.append({"interaction_id": interaction_id, "reason": reason})
    return blockers


def complete_in_bulk(record: Record | None, account_id: str, actor: Actor, completion: Completion,
                     now: datetime) -> Decision | None:
    """One record of a bulk completion; ``None`` if it stopped qualifying since it was checked."""
    if record is None or bulk_blockers(account_id, [record.interaction_id], {record.interaction_id: record}, actor):
        return None
    return complete(record, record.interaction_id, actor, completion, now)


def close_for_callback(record: Record, outcome: str, closed_by: str | None, at: datetime) -> Decision | None:
    """The outbound record of a callback that ended (completed, failed for good, expired, cancelled)."""
    if record.read_only or record.opened_at is None:
        return None
    done = closed(record, Completion(outcome), at, closed_by)
    return done, [events.closed(done)]


def self_service(record: Record, now: datetime, grace: timedelta) -> Decision:
    """An ended contact whose grace passed: closed as self-service if no agent handled it, else left alone;
    one that has not started yet (events in any order) is looked at again after another grace."""
    if record.read_only or record.has_agent or record.status != OPEN:
        return replace(record, self_service_due_at=None), []
    if record.opened_at is None or not record.contact_ended:
        return replace(record, self_service_due_at=now + grace), []
    ended = record.contact_ended_at() or now
    done = closed(record, Completion(SELF_SERVICE), ended, None, until=ended)
    return done, [events.closed(done)]
