"""Lookup documents: the ids of the records that have one key (an inverted index read by ``_id``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from icsuite_chassis.store import Change, Stored

LOOKUP_CAP = 1000
"""Ids listed per key at most; a key shared by more records is too unspecific to find anyone by."""


@dataclass(frozen=True)
class Lookup:
    key: str
    ids: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    """For keys that carry one (``names-in:<postcode>``): the record's label (its folded name) by id, so
    that a fuzzy match reads one document."""


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
