from datetime import UTC, datetime

import pytest

from icsuite_followups.domain import (
    MAX_NOTES,
    InvalidLanguage,
    Note,
    NoteDraft,
    NotesHistoryFull,
    filter_notes,
    language_matches,
    normalize_language,
)
from icsuite_followups.domain.notes import appended, note_from_draft

pytestmark = pytest.mark.unit
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("tag", "normal"), [
    ("de", "de"), ("de-at", "de-AT"), ("EN-us", "en-US"), ("zh-hant-tw", "zh-Hant-TW"),
    ("es-419", "es-419"), ("de-DE-1996", "de-DE-1996"), ("en-US-x-TWAIN", "en-US-x-twain"),
])
def test_valid_tags_are_kept_in_their_conventional_case(tag: str, normal: str) -> None:
    assert normalize_language(tag) == normal


@pytest.mark.parametrize("tag", ["", "xx", "zz-ZZ", "en_US", "english", "12", "de--AT", "de-", "a" * 40])
def test_invalid_tags_are_refused(tag: str) -> None:
    with pytest.raises(InvalidLanguage):
        normalize_language(tag)


def test_a_language_range_matches_its_subtags_only() -> None:
    assert language_matches("de-AT", "de") and language_matches("de-AT", "DE-at")
    assert not language_matches("de", "de-AT") and not language_matches("den", "de")
    assert language_matches("fr", "*")


def _note(i: int, type: str = "note", author: str = "a-1", language: str = "en") -> Note:
    return Note(note_id=f"n-{i}", type=type, language=language, text=f"text {i}", author=author, created_at=NOW)


def test_notes_filter_by_type_author_and_language() -> None:
    notes = [_note(1), _note(2, "internal", "a-2", "de-AT"), _note(3, "internal", "a-1", "de")]
    assert [n.note_id for n in filter_notes(notes, type="internal")] == ["n-2", "n-3"]
    assert [n.note_id for n in filter_notes(notes, type="internal", author="a-1")] == ["n-3"]
    assert [n.note_id for n in filter_notes(notes, language="de")] == ["n-2", "n-3"]
    assert filter_notes(notes) == notes


def test_the_history_only_grows_and_has_a_limit() -> None:
    history = appended((), [_note(1)])
    longer = appended(history, [_note(2)])
    assert longer[:1] == history and len(longer) == 2
    with pytest.raises(NotesHistoryFull):
        appended(tuple(_note(i) for i in range(MAX_NOTES)), [_note(MAX_NOTES)])


def test_a_draft_becomes_a_note_with_author_time_and_normal_language() -> None:
    note = note_from_draft(NoteDraft("report", "de-at", "Zählerstand"), note_id="n-1", author="a-7", now=NOW)
    assert (note.language, note.author, note.created_at) == ("de-AT", "a-7", NOW)
    with pytest.raises(InvalidLanguage):
        note_from_draft(NoteDraft("report", "klingonish", "x"), note_id="n-2", author="a-7", now=NOW)
