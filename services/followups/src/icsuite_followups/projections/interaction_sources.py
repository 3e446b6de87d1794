"""The service's own projection of interaction records, built from ``ic.interactions.v1``.

Copying control reads it instead of calling the interactions gateway: what a follow-up copies from an
interaction is what the interaction's events said. One document per interaction, keyed by its id, written
by the chassis :class:`~icsuite_chassis.store.projection.ProjectionWriter` (each event applied once, the
event id recorded in the same write; merges move documents with its ``assign`` and an erasure is kept by its
``settle``, so a rebuild reproduces both). ``project`` is pure; notes are kept in the order they were written
(the last :data:`NOTES_KEPT`), and a closed record stays closed whatever order its events come in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.store.projection import ProjectionWriter, Settle
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.interactions_v1 import (
    InteractionAccountLinked,
    InteractionClosed,
    InteractionOpened,
    NoteAdded,
)
from pymongo.asynchronous.database import AsyncDatabase

from ..domain import SourceNote, SourceSnapshot

INTERACTION_SOURCES = "interaction_sources"
NOTES_KEPT = 50
PROJECTED_EVENTS = (InteractionOpened, InteractionAccountLinked, NoteAdded, InteractionClosed)
_FIELDS = ("channel", "contact_id", "account_id", "business_agreement_id", "premise_id", "reason_code",
           "outcome", "result")


@dataclass(frozen=True)
class ProjectedNote:
    note_id: str
    type: str
    language: str
    text: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class InteractionSource:
    channel: str | None = None
    contact_id: str | None = None
    account_id: str | None = None
    business_agreement_id: str | None = None
    premise_id: str | None = None
    reason_code: str | None = None
    outcome: str | None = None
    result: str | None = None
    closed: bool = False
    notes: tuple[ProjectedNote, ...] = ()

    @property
    def snapshot(self) -> SourceSnapshot:
        """What copying control may copy from the interaction."""
        fields = {k: getattr(self, k) for k in ("account_id", "business_agreement_id", "premise_id", "reason_code")}
        return SourceSnapshot(fields=fields, notes=tuple(
            SourceNote(note_id=n.note_id, type=n.type, language=n.language, text=n.text, author=n.author)
            for n in self.notes))


def _known(state: InteractionSource, **values: Any) -> InteractionSource:
    return replace(state, **{k: v for k, v in values.items() if v is not None})


def _with_note(notes: tuple[ProjectedNote, ...], note: ProjectedNote) -> tuple[ProjectedNote, ...]:
    if any(n.note_id == note.note_id for n in notes):
        return notes
    return tuple(sorted((*notes, note), key=lambda n: n.created_at))[-NOTES_KEPT:]  # stable: ties keep arrival order


def project(state: InteractionSource | None, envelope: Envelope) -> InteractionSource | None:
    """The record after one of its events (``None``: the event changes nothing here)."""
    current = state or InteractionSource()
    match envelope.data:
        case InteractionOpened() as e:
            return _known(current, channel=e.channel, contact_id=e.contact_id, account_id=e.account_id)
        case InteractionAccountLinked() as e:
            # a new account makes the former agreement and premise meaningless: replaced, also by null
            return replace(current, account_id=e.account_id, business_agreement_id=e.business_agreement_id,
                           premise_id=e.premise_id)
        case NoteAdded() as e:
            note = ProjectedNote(e.note_id, e.type, e.language, e.text, e.author, e.created_at)
            return replace(_known(current, account_id=e.account_id), notes=_with_note(current.notes, note))
        case InteractionClosed() as e:
            return replace(_known(current, account_id=e.account_id, business_agreement_id=e.business_agreement_id,
                                  reason_code=e.reason_code, outcome=e.outcome, result=e.result), closed=True)
    return None


def interaction_of(envelope: Envelope) -> str | None:
    return envelope.data.interaction_id if isinstance(envelope.data, PROJECTED_EVENTS) else None


class InteractionSourceCodec:
    def encode(self, s: InteractionSource) -> dict[str, Any]:
        return {**{k: getattr(s, k) for k in _FIELDS}, "status": "closed" if s.closed else "open",
                "notes": [{"note_id": n.note_id, "type": n.type, "language": n.language, "text": n.text,
                           "author": n.author, "created_at": n.created_at} for n in s.notes]}

    def decode(self, doc: Mapping[str, Any]) -> InteractionSource:
        notes = tuple(ProjectedNote(**{k: n[k] for k in ("note_id", "type", "language", "text", "author",
                                                          "created_at")}) for n in doc.get("notes") or ())
        return InteractionSource(**{k: doc.get(k) for k in _FIELDS}, closed=doc.get("status") == "closed",
                                 notes=notes)


def interaction_sources(db: AsyncDatabase[dict[str, Any]], *,
                        settle: Settle | None = None) -> ProjectionWriter[InteractionSource]:
    """The writer; ``settle`` keeps erased accounts' notes erased (:func:`..erased_accounts.sources_settle`)."""
    return ProjectionWriter(db, INTERACTION_SOURCES, InteractionSourceCodec(), project, interaction_of,
                            indexes=[IndexSpec(INTERACTION_SOURCES, [("account_id", 1)])], settle=settle)
