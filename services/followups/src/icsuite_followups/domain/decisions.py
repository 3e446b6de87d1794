"""The decisions of a follow-up's life: each takes the state (and a command, and now) and answers the new
state with what happened, or raises the domain's refusal. Pure: no I/O, time and ids are passed in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from .copying import SourceSnapshot, copy_from_source
from .customizing import CopyRule, CopyRules, FollowupTypeRules
from .errors import FollowupFinished, InvalidChange, InvalidTransition
from .followup import (
    ACCOUNT_BOUND_FIELDS,
    COPYING_CONTROL,
    DATE_FIELDS,
    DEFAULT_PRIORITY,
    FINAL_STATUSES,
    LATE_COPIED_FIELDS,
    PARTY_FIELDS,
    PATCHABLE_FIELDS,
    PROJECTED_SOURCE_TYPES,
    TRANSITIONS,
    Actor,
    FieldsChanged,
    Followup,
    FollowupEvent,
    FollowupOpened,
    NewFollowup,
    NoteAppended,
    StatusChanged,
    check_may_change,
)
from .notes import MAX_NOTES, NoteDraft, appended, check_room, note_from_draft

Decided = tuple[Followup, list[FollowupEvent]]


def decide_create(cmd: NewFollowup, *, followup_id: str, author: str, now: datetime, note_ids: Sequence[str],
                  type_rules: FollowupTypeRules, copy_rules: CopyRules, source: SourceSnapshot,
                  correlation_id: str | None = None) -> Decided:
    """A new open follow-up: type permitted, dates consistent, fields and notes copied by the rule.

    The history starts with the notes copied from the source, then the request's notes, then the
    scratch-pad text; every note, copied ones too, is written by ``author`` at ``now``. ``note_ids`` holds one id per note of
    the request and the scratch pad. Without an ``owner_id`` the author owns it.
    """
    type_rules.check(channel=cmd.channel, source_type=cmd.source_type, followup_type=cmd.type)
    schedule = cmd.schedule.validated()
    drafts = cmd.drafts()
    check_room(0, len(drafts))
    own = [note_from_draft(d, note_id=i, author=author, now=now) for d, i in zip(drafts, note_ids, strict=True)]
    rule = copy_rules.for_source(cmd.source_type)
    copy = copy_from_source(rule, source, cmd.requested, source_type=cmd.source_type, source_id=cmd.source_id,
                            room_for_notes=MAX_NOTES - len(own), copier=author, now=now)
    parties = {k: copy.values.get(k) for k in PARTY_FIELDS}
    parties["owner_id"] = parties["owner_id"] or author
    awaiting = ()
    if cmd.source_type in PROJECTED_SOURCE_TYPES:
        awaiting = tuple(n for n in LATE_COPIED_FIELDS if n in rule.fields and copy.values.get(n) is None)
    followup = Followup(
        followup_id=followup_id, source_type=cmd.source_type, source_id=cmd.source_id, type=cmd.type,
        channel=cmd.channel, status="open", priority=DEFAULT_PRIORITY if cmd.priority is None else cmd.priority,
        created_by=author, created_at=now, updated_at=now, parties=parties, schedule=schedule,
        notes=appended((), [*copy.notes, *own]), copied_fields=copy.copied_fields, awaiting_copy=awaiting,
        correlation_id=correlation_id or followup_id,
    )
    return followup, [FollowupOpened(followup), *(NoteAppended(n) for n in followup.notes)]


def decide_change(followup: Followup, changes: Mapping[str, Any], *, actor: Actor, now: datetime) -> Decided:
    """Apply a partial update (reassign, cancel, complete, edit) by the owner or a supervisor, else
    :class:`NotOwner`; no event when nothing actually changes.

    A new due date can be missed again, and a new planned start can come due again.
    """
    check_may_change(followup, actor)
    unknown = set(changes).difference(PATCHABLE_FIELDS)
    if unknown:
        raise InvalidChange(f"fields that cannot be changed: {sorted(unknown)}")
    if changes.get("status", "") is None or ("priority" in changes and changes["priority"] is None):
        raise InvalidChange("status and priority cannot be null")
    changed = tuple(name for name in PATCHABLE_FIELDS
                    if name in changes and changes[name] != followup.value_of(name))
    if not changed:
        return followup, []
    if followup.status in FINAL_STATUSES:
        raise FollowupFinished(followup.status)
    new_status = changes.get("status", followup.status)
    if new_status != followup.status and new_status not in TRANSITIONS[followup.status]:
        raise InvalidTransition(followup.status, new_status, TRANSITIONS[followup.status])
    fields = [name for name in changed if name != "status"]
    schedule = replace(followup.schedule, **{n: changes[n] for n in fields if n in DATE_FIELDS}).validated()
    updated = replace(
        followup, status=new_status, schedule=schedule, updated_at=now, version=followup.version + 1,
        priority=changes.get("priority", followup.priority),
        parties={**followup.parties, **{n: changes[n] for n in fields if n in PARTY_FIELDS}},
        overdue_emitted=followup.overdue_emitted and "due_at" not in fields,
        came_due_at=None if "planned_start" in fields else followup.came_due_at,
        awaiting_copy=_still_awaited(followup.awaiting_copy, fields),
    )
    events: list[FollowupEvent] = []
    if fields:
        events.append(FieldsChanged(tuple(fields), now, actor.sub))
    if new_status != followup.status:
        events.append(StatusChanged(followup.status, new_status, now, actor.sub))
    return updated, events


def _still_awaited(awaiting: tuple[str, ...], changed_by_agent: Sequence[str]) -> tuple[str, ...]:
    """An agent's value is never replaced; an agent who chose the account chose its agreement and premise."""
    if "account_id" in changed_by_agent:
        return ()
    return tuple(n for n in awaiting if n not in changed_by_agent)


def decide_complete_copy(followup: Followup, rule: CopyRule, source: SourceSnapshot, *, now: datetime) -> Decided:
    """Copy what the source learned after the follow-up was created from it, in every status.

    Only fields the follow-up still awaits (unset at creation, untouched by agents since) and the rule
    still copies; a business agreement or premise not when the follow-up has another account than the
    source. The fields the rule no longer copies are no longer awaited. No event when nothing is copied.
    """
    awaited = [n for n in followup.awaiting_copy if n in rule.fields]
    values = {n: source.fields[n] for n in awaited
              if followup.parties.get(n) is None and source.fields.get(n) is not None}
    account = values.get("account_id", followup.account_id)
    if account is not None and account != source.fields.get("account_id"):
        values = {n: v for n, v in values.items() if n not in ACCOUNT_BOUND_FIELDS}
    awaiting = tuple(n for n in awaited if n not in values)
    if not values:
        return replace(followup, awaiting_copy=awaiting), []
    copied = tuple(n for n in LATE_COPIED_FIELDS if n in values)
    updated = replace(followup, parties={**followup.parties, **values}, updated_at=now,
                      version=followup.version + 1, awaiting_copy=awaiting,
                      copied_fields=(*followup.copied_fields, *copied))
    return updated, [FieldsChanged(copied, now, COPYING_CONTROL)]


def decide_append_note(followup: Followup, draft: NoteDraft, *, note_id: str, author: str,
                       now: datetime) -> Decided:
    """The note at the end of the history, written by ``author`` at ``now``; notes may be appended in every
    status, by any staff member (a note changes nothing the owner decided)."""
    note = note_from_draft(draft, note_id=note_id, author=author, now=now)
    return replace(followup, notes=appended(followup.notes, [note])), [NoteAppended(note)]
