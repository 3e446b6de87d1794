"""Notes and their history: typed, in a BCP 47 language, append-only, filterable."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import langcodes

from .errors import InvalidLanguage, InvalidNote, NotesHistoryFull

NOTE_TYPES = ("note", "report", "preparation", "business_partner_information", "correspondence", "internal")
MAX_NOTE_CHARS = 32_768
MAX_NOTES = 100
_TAG_SHAPE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True)
class CopiedFrom:
    """Where a copied note came from, and who wrote it there (the copy's own author is whoever copied it)."""

    source_type: str
    source_id: str
    note_id: str
    author: str | None = None


@dataclass(frozen=True)
class Note:
    note_id: str
    type: str
    language: str
    text: str
    author: str
    created_at: datetime
    copied_from: CopiedFrom | None = None


@dataclass(frozen=True)
class NoteDraft:
    """A note as a caller writes it: the author (the token's subject) and time (the clock) are added when it
    is appended, never taken from a request."""

    type: str
    language: str
    text: str


def normalize_language(tag: str) -> str:
    """The tag in its conventional letter case (``de-at`` -> ``de-AT``); InvalidLanguage if not BCP 47."""
    if not _TAG_SHAPE.match(tag) or len(tag) > 35 or not langcodes.tag_is_valid(tag):
        raise InvalidLanguage(tag)
    first, *rest = tag.split("-")
    out = [first.lower()]
    in_extension = False
    for part in rest:
        in_extension = in_extension or len(part) == 1
        if in_extension:
            out.append(part.lower())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def language_matches(tag: str, language_range: str) -> bool:
    """RFC 4647 basic filtering: ``de`` matches ``de`` and ``de-AT``; ``de-AT`` matches only ``de-AT``."""
    tag, language_range = tag.lower(), language_range.lower()
    return language_range == "*" or tag == language_range or tag.startswith(language_range + "-")


def filter_notes(notes: Iterable[Note], *, type: str | None = None, author: str | None = None,
                 language: str | None = None) -> list[Note]:
    return [n for n in notes
            if (type is None or n.type == type)
            and (author is None or n.author == author)
            and (language is None or language_matches(n.language, language))]


def check_room(existing: int, adding: int) -> None:
    if existing + adding > MAX_NOTES:
        raise NotesHistoryFull(MAX_NOTES)


def note_from_draft(draft: NoteDraft, *, note_id: str, author: str, now: datetime) -> Note:
    if draft.type not in NOTE_TYPES:
        raise InvalidNote(f"unknown note type {draft.type!r}")
    if not draft.text or len(draft.text) > MAX_NOTE_CHARS:
        raise InvalidNote(f"a note's text has 1 to {MAX_NOTE_CHARS} characters")
    return Note(note_id=note_id, type=draft.type, language=normalize_language(draft.language),
                text=draft.text, author=author, created_at=now)


def appended(history: Sequence[Note], new: Sequence[Note]) -> tuple[Note, ...]:
    """The history with ``new`` at its end: the only way a history ever changes."""
    check_room(len(history), len(new))
    return (*history, *new)
