"""Listing and unlisting records under a paged key (``names-in:<postcode>``, see
:func:`..domain.lookups.lookup_pages`).

A record is listed on one page of its key. Listing reads every page of the keys at once (one ``_id $in``):
a record already listed keeps its page (its label is brought up to date there, and a second listing that
a race left on another page is removed); a new record is appended to the first page that had room, and
when that page filled up meanwhile (the guarded write re-decides on the page as it is then) to the next,
round by round. Unlisting removes the record from every page that lists it. Every step is a set operation
on one document through the store, idempotent by itself, so a redelivered indexing writes only what is
still missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from icsuite_chassis.store import AggregateStore, Change, Item, Stored

from ..domain.lookups import LOOKUP_CAP, Lookup, decide_index, lookup_pages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PagedEntry:
    key: str
    """The paged key (the id of its first page)."""
    record_id: str
    label: str | None = None
    present: bool = True
    """False: unlist the record from the key."""


Decide = Callable[[Stored[Lookup] | None], Change[Lookup] | None]


def _decision(key: str, entry: PagedEntry, *, present: bool) -> Decide:
    return lambda current: decide_index(current, key, entry.record_id, present=present, label=entry.label)


def _holders(entry: PagedEntry, pages: Mapping[str, Stored[Lookup]]) -> list[str]:
    return [page for page in lookup_pages(entry.key) if page in pages and entry.record_id in pages[page].state.ids]


def _with_room(entry: PagedEntry, pages: Mapping[str, Stored[Lookup]]) -> list[str]:
    """The pages of the key from the first one that had room when they were read."""
    ids = lookup_pages(entry.key)
    first = next((n for n, page in enumerate(ids) if page not in pages or len(pages[page].state.ids) < LOOKUP_CAP),
                 len(ids))
    return ids[first:]


async def index_paged(lookups: AggregateStore[Lookup], entries: Sequence[PagedEntry]) -> None:
    """Bring the pages of the entries' keys in line with them (each page's ``key`` is the paged key)."""
    if not entries:
        return
    keys = dict.fromkeys(entry.key for entry in entries)
    pages = await lookups.get_many([page for key in keys for page in lookup_pages(key)])
    items: list[Item[Lookup]] = []
    appending: dict[PagedEntry, list[str]] = {}
    for entry in entries:
        holders = _holders(entry, pages)
        if entry.present and holders:
            items.append(Item(holders[0], _decision(entry.key, entry, present=True)))
            holders = holders[1:]
        elif entry.present:
            appending[entry] = _with_room(entry, pages)
        items += [Item(page, _decision(entry.key, entry, present=False)) for page in holders]
    if items:
        await lookups.change_many(items)
    await _append(lookups, appending)


async def _append(lookups: AggregateStore[Lookup], appending: dict[PagedEntry, list[str]]) -> None:
    """Each entry on the first of its pages that takes it: one batch per round, at most one round per page."""
    while appending:
        pending = {entry: pages for entry, pages in appending.items() if pages}
        for entry in appending.keys() - pending.keys():
            log.warning("%s lists %d records on each of its %d pages: %s is not listed and cannot be found by it",
                        entry.key, LOOKUP_CAP, len(lookup_pages(entry.key)), entry.record_id)
        entries = list(pending)
        outcomes = await lookups.change_many([Item(pending[e][0], _decision(e.key, e, present=True)) for e in entries])
        appending = {entry: pending[entry][1:] for entry, outcome in zip(entries, outcomes, strict=True)
                     if outcome.stored is None or entry.record_id not in outcome.stored.state.ids}
