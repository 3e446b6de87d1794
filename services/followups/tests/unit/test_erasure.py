"""Erasure of a follow-up's notes and of the interaction notes kept for copying control, without I/O."""

from datetime import UTC, datetime

import pytest
from icsuite_chassis.erasure import ERASED
from icsuite_chassis.store import Stored

from icsuite_followups.domain import DEFAULT_FOLLOWUP_TYPES, CopyRules, NewFollowup, NoteDraft, SourceSnapshot
from icsuite_followups.domain import decide_create
from icsuite_followups.domain.erasure import decide_erase, decide_erase_source, personal_data
from icsuite_followups.projections.interaction_sources import InteractionSource, ProjectedNote

pytestmark = pytest.mark.unit
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _followup():
    cmd = NewFollowup(source_type="interaction", source_id="int-1", type="phone_call", channel="phone",
                      requested={"account_id": "acc-1"},
                      notes=[NoteDraft("note", "de", "Kunde zahlt in Raten"), NoteDraft("report", "de", "Bericht")])
    return decide_create(cmd, followup_id="fu-1", author="a-9", now=NOW, note_ids=["n-1", "n-2"],
                         type_rules=DEFAULT_FOLLOWUP_TYPES, copy_rules=CopyRules(), source=SourceSnapshot(fields={}))


def test_every_note_text_is_erased_and_the_rest_stays() -> None:
    followup, _ = _followup()
    assert personal_data(followup) == {"notes": 2}

    erased = decide_erase(Stored("fu-1", followup, 1)).state

    assert [n.text for n in erased.notes] == [ERASED, ERASED]
    assert ([n.note_id for n in erased.notes], erased.status, erased.parties) == (
        [n.note_id for n in followup.notes], followup.status, followup.parties)
    assert decide_erase(Stored("fu-1", erased, 2)) is None


def test_the_interaction_notes_kept_for_copying_are_erased_once() -> None:
    source = InteractionSource(account_id="acc-1", notes=(ProjectedNote("n-1", "note", "de", "geheim", "a-1", NOW),))

    erased = decide_erase_source(Stored("int-1", source, 1)).state

    assert erased.notes[0].text == ERASED and erased.notes[0].note_id == "n-1"
    assert decide_erase_source(Stored("int-1", erased, 2)) is None
