"""Copying control: fill a new follow-up from what is known about its source, by the configured rule.

Values given in the request always win; a copied value only fills a field the request left empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .customizing import CopyRule
from .notes import NOTE_TYPES, CopiedFrom, Note


@dataclass(frozen=True)
class SourceNote:
    """A note of the source as the source tells it; copied, it is named in ``copied_from``."""

    note_id: str
    type: str
    language: str
    text: str
    author: str


@dataclass(frozen=True)
class SourceSnapshot:
    """What the service knows about a source: from its projection of events, or given in the request."""

    fields: Mapping[str, str | None]
    notes: Sequence[SourceNote] = ()

    @staticmethod
    def empty() -> SourceSnapshot:
        return SourceSnapshot(fields={})

    def overlaid_on(self, fallback: SourceSnapshot) -> SourceSnapshot:
        """This snapshot, with ``fallback`` filling the fields it does not know and adding its notes."""
        merged = {**{k: v for k, v in fallback.fields.items() if v is not None},
                  **{k: v for k, v in self.fields.items() if v is not None}}
        known = {n.note_id for n in self.notes}
        return SourceSnapshot(fields=merged, notes=(*self.notes, *(n for n in fallback.notes if n.note_id not in known)))


def copied_note_id(source_type: str, source_id: str, note_id: str) -> str:
    """A stable id for the copy of a source's note (the same note copied twice has the same id)."""
    digest = hashlib.sha256(f"{source_type}\x1f{source_id}\x1f{note_id}".encode()).hexdigest()
    return f"nc-{digest[:24]}"


@dataclass(frozen=True)
class CopyResult:
    values: dict[str, str | None]
    copied_fields: tuple[str, ...]
    notes: tuple[Note, ...]


def copy_from_source(rule: CopyRule, snapshot: SourceSnapshot, requested: Mapping[str, str | None], *,
                     source_type: str, source_id: str, room_for_notes: int, copier: str,
                     now: datetime) -> CopyResult:
    """The request's values completed by the rule's fields from ``snapshot``, and the notes to copy.

    A copied note is written by ``copier`` at ``now`` (a note's author and time never come from a request);
    the source's author is kept in ``copied_from``. Its language and text are kept; a source note type the
    follow-up does not know becomes ``note``. When there is no room for every chosen note, the newest are copied.
    """
    values = dict(requested)
    copied: list[str] = []
    for name in rule.fields:
        if values.get(name) is None and snapshot.fields.get(name) is not None:
            values[name] = snapshot.fields[name]
            copied.append(name)
    chosen = [n for n in snapshot.notes if n.type in rule.note_types]
    keep = max(0, room_for_notes)
    chosen = chosen[len(chosen) - keep:] if keep < len(chosen) else chosen
    notes = tuple(
        Note(note_id=copied_note_id(source_type, source_id, n.note_id), type=n.type if n.type in NOTE_TYPES else "note",
             language=n.language, text=n.text, author=copier, created_at=now,
             copied_from=CopiedFrom(source_type, source_id, n.note_id, n.author))
        for n in chosen
    )
    if notes:
        copied.append("notes")
    return CopyResult(values=values, copied_fields=tuple(copied), notes=notes)
