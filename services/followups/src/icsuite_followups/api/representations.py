"""Between the gateway's bodies and the domain: requests into commands, states into responses."""

from __future__ import annotations

from typing import Any

from ..domain import (
    Configured,
    CopyRule,
    CopyRules,
    Followup,
    FollowupTypeRules,
    NewFollowup,
    Note,
    NoteDraft,
    Schedule,
    SourceNote,
    SourceSnapshot,
    normalize_language,
)
from ..schemas import (
    CopiedFromOut,
    CopyRulesIn,
    FollowupIn,
    FollowupOut,
    FollowupTypesIn,
    NoteIn,
    NoteOut,
    SourceOut,
)


def note_draft(body: NoteIn) -> NoteDraft:
    return NoteDraft(type=body.type, language=body.language, text=body.text)


def new_followup(body: FollowupIn, *, default_language: str) -> NewFollowup:
    pad = body.scratch_pad
    return NewFollowup(
        source_type=body.source.type, source_id=body.source.id, type=body.type, channel=body.channel,
        requested={"account_id": body.account_id, "business_agreement_id": body.business_agreement_id,
                   "premise_id": body.premise_id, "contact_person_id": body.contact_person_id,
                   "reason_code": body.reason_code, "owner_id": body.owner_id},
        schedule=Schedule(planned_start=body.planned_start, planned_end=body.planned_end, due_at=body.due_at),
        priority=body.priority, notes=[note_draft(n) for n in body.notes],
        scratch_pad=None if pad is None else NoteDraft(type=pad.note_type, text=pad.text,
                                                        language=pad.language or default_language),
    )


def source_data(body: FollowupIn) -> SourceSnapshot:
    data = body.source_data
    if data is None:
        return SourceSnapshot.empty()
    return SourceSnapshot(
        fields={"account_id": data.account_id, "business_agreement_id": data.business_agreement_id,
                "premise_id": data.premise_id, "reason_code": data.reason_code},
        notes=tuple(SourceNote(note_id=n.note_id, type=n.type, language=normalize_language(n.language), text=n.text,
                               author=n.author) for n in data.notes))


def note_out(note: Note) -> NoteOut:
    c = note.copied_from
    return NoteOut(note_id=note.note_id, type=note.type, language=note.language, text=note.text,
                   author=note.author, created_at=note.created_at,
                   copied_from=None if c is None else CopiedFromOut(source_type=c.source_type,  # type: ignore[arg-type]
                                                                    source_id=c.source_id, note_id=c.note_id,
                                                                    author=c.author))


def followup_out(f: Followup, *, with_notes: bool) -> FollowupOut:
    s = f.schedule
    return FollowupOut(
        followup_id=f.followup_id, source=SourceOut(type=f.source_type, id=f.source_id),  # type: ignore[arg-type]
        display_area=f.display_area, type=f.type, channel=f.channel, status=f.status,  # type: ignore[arg-type]
        priority=f.priority, **f.parties, planned_start=s.planned_start, planned_end=s.planned_end,
        due_at=s.due_at, overdue=f.overdue_emitted, came_due_at=f.came_due_at, copied_fields=list(f.copied_fields),
        created_by=f.created_by, created_at=f.created_at, updated_at=f.updated_at, version=f.version,
        notes=[note_out(n) for n in f.notes] if with_notes else None,
    )


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def type_rules(body: FollowupTypesIn) -> FollowupTypeRules:
    return FollowupTypeRules(channels={k: _unique(v) for k, v in body.channels.items()},
                             source_types={k: _unique(v) for k, v in body.source_types.items()})


def copy_rules(body: CopyRulesIn) -> CopyRules:
    return CopyRules(source_types={k: CopyRule(fields=_unique(list(r.fields)), note_types=_unique(r.note_types))
                                   for k, r in body.source_types.items()})


def _stamp(config: Configured[Any]) -> dict[str, Any]:
    return {"version": config.version, "updated_at": config.updated_at, "updated_by": config.updated_by}


def type_rules_out(config: Configured[FollowupTypeRules]) -> dict[str, Any]:
    rules = config.rules
    return {"channels": {k: list(v) for k, v in rules.channels.items()},
            "source_types": {k: list(v) for k, v in rules.source_types.items()}, **_stamp(config)}


def copy_rules_out(config: Configured[CopyRules]) -> dict[str, Any]:
    return {"source_types": {k: {"fields": list(r.fields), "note_types": list(r.note_types)}
                             for k, r in config.rules.source_types.items()}, **_stamp(config)}
