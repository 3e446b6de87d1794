"""Lookup documents: the ids of the records that have one key (an inverted index read by ``_id``)."""

from __future__ import annotations

from dataclasses import dataclass

from icsuite_chassis.store import Change, Stored

LOOKUP_CAP = 1000
"""Ids listed per key at most; a key shared by more records is too unspecific to find anyone by."""


@dataclass(frozen=True)
class Lookup:
    key: str
    ids: tuple[str, ...] = ()


def decide_index(current: Stored[Lookup] | None, key: str, record_id: str, *,
                 present: bool) -> Change[Lookup] | None:
    """List ``record_id`` under ``key`` when the record has the key now (``present``), else unlist it."""
    ids = current.state.ids if current is not None else ()
    if present and record_id not in ids and len(ids) < LOOKUP_CAP:
        return Change(Lookup(key, (*ids, record_id)))
    if not present and record_id in ids:
        return Change(Lookup(key, tuple(i for i in ids if i != record_id)))
    return None
