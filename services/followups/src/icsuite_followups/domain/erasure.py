"""Erasure of what a follow-up holds about its customer (``ic.privacy.erasure-requested.v1``): the text of
every note (notes, reports, correspondence, preparation...) reads ``[erased]``; ids, types, authors, times
and statuses stay."""

from __future__ import annotations

from dataclasses import replace

from icsuite_chassis.erasure import ERASED
from icsuite_chassis.store import Change, Stored

from ..projections.interaction_sources import InteractionSource
from .followup import Followup


def personal_data(followup: Followup) -> dict[str, int]:
    return {"notes": sum(note.text != ERASED for note in followup.notes)}


def decide_erase(current: Stored[Followup] | None) -> Change[Followup] | None:
    if current is None or not any(personal_data(current.state).values()):
        return None
    return Change(replace(current.state, notes=tuple(replace(n, text=ERASED) for n in current.state.notes)))


def decide_erase_source(current: Stored[InteractionSource] | None) -> Change[InteractionSource] | None:
    """The notes the projection of an interaction keeps for copying control (a replayed note stays erased:
    the projection keeps a note id once)."""
    if current is None or all(n.text == ERASED for n in current.state.notes):
        return None
    return Change(replace(current.state, notes=tuple(replace(n, text=ERASED) for n in current.state.notes)))
