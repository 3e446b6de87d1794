"""Lookup documents: the ids of the records that have one key (an inverted index read by ``_id``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from icsuite_chassis.store import Change, Stored

LOOKUP_CAP = 1000
"""Ids listed per lookup document at most; a key shared by more records is too unspecific to find anyone by,
except a paged key (:func:`lookup_pages`), which lists more on further pages."""
PAGED_KINDS = ("names-in:",)
"""Keys every record of which a search must see: one postcode's accounts for fuzzy name matching."""
LOOKUP_PAGES = 16
"""Pages of a paged key: ``LOOKUP_PAGES * LOOKUP_CAP`` (16,000) accounts per postcode can be found."""


@dataclass(frozen=True)
class Lookup:
    key: str
    ids: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    """For keys that carry one (``names-in:<postcode>``): the record's label (its folded name) by id, so
    that a fuzzy match reads one document."""


def is_paged(key: str) -> bool:
    return key.startswith(PAGED_KINDS)


def lookup_pages(key: str) -> list[str]:
    """The ``_id`` of each lookup document of ``key``: the key itself, and for a paged key its overflow
    pages ``<key>|2`` to ``<key>|16``. A record is listed on one page: the first that had room when it
    was listed (:mod:`..projections.pages`); a reader reads every page at once (one ``_id $in``)."""
    if not is_paged(key):
        return [key]
    return [key, *(f"{key}|{page}" for page in range(2, LOOKUP_PAGES + 1))]


def decide_index(current: Stored[Lookup] | None, key: str, record_id: str, *, present: bool,
                 label: str | None = None) -> Change[Lookup] | None:
    """List ``record_id`` under ``key`` (with its ``label``) when the record has the key now (``present``),
    else unlist it."""
    lookup = current.state if current is not None else Lookup(key)
    listed = record_id in lookup.ids
    if present and (listed or len(lookup.ids) < LOOKUP_CAP):
        if listed and lookup.labels.get(record_id) == label:
            return None
        labels = {**lookup.labels, record_id: label} if label is not None else lookup.labels
        ids = lookup.ids if listed else (*lookup.ids, record_id)
        return Change(Lookup(key, ids, labels))
    if not present and listed:
        labels = {i: text for i, text in lookup.labels.items() if i != record_id}
        return Change(Lookup(key, tuple(i for i in lookup.ids if i != record_id), labels))
    return None
