"""The idempotent consumer: an event's effect and the record that it was applied are one atomic write.

Every aggregate document keeps the ids of the events applied to it (the last ``APPLIED_KEEP``) in
``_applied``. An update is guarded by ``{"_applied": {"$ne": event_id}}`` and pushes the id in the same
single-document write, so a redelivered event matches nothing and has no second effect. With
``upsert=True`` a guarded update of a document that already applied the event tries to insert a second
document with the same ``_id`` and is refused with a duplicate-key error, which also means "applied".
Events to publish ride in the same write (see :mod:`icsuite_chassis.outbox`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from icsuite_contracts.cloudevents import Envelope
from pymongo.asynchronous.collection import AsyncCollection

from .mongo import is_duplicate_key
from .outbox import outbox_entries

APPLIED_FIELD = "_applied"
APPLIED_KEEP = 256


class Applied(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    NO_MATCH = "no_match"


def merge_updates(*updates: Mapping[str, Any]) -> dict[str, Any]:
    """Merge update documents operator by operator (``$set`` with ``$set``, ``$push`` with ``$push``)."""
    merged: dict[str, dict[str, Any]] = {}
    for update in updates:
        for operator, fields in update.items():
            target = merged.setdefault(operator, {})
            overlap = set(target).intersection(fields)
            if overlap:
                raise ValueError(f"conflicting updates of {sorted(overlap)} under {operator}")
            target.update(fields)
    return merged


def guarded_update(event_id: str, update: Mapping[str, Any],
                   publish: Iterable[Envelope] = ()) -> dict[str, Any]:
    """``update`` plus the record that ``event_id`` was applied and the events to publish."""
    extra: dict[str, Any] = {"$push": {APPLIED_FIELD: {"$each": [event_id], "$slice": -APPLIED_KEEP}}}
    entries = outbox_entries(publish)
    if entries:
        extra["$push"]["_outbox"] = {"$each": entries}
    return merge_updates(update, extra)


async def apply_once(collection: AsyncCollection[dict[str, Any]], *, filter: Mapping[str, Any],
                     update: Mapping[str, Any], event_id: str, upsert: bool = True,
                     publish: Iterable[Envelope] = ()) -> Applied:
    """Apply ``update`` to the document matched by ``filter`` unless ``event_id`` was applied to it."""
    guarded_filter = {**filter, APPLIED_FIELD: {"$ne": event_id}}
    try:
        result = await collection.update_one(guarded_filter, guarded_update(event_id, update, publish),
                                             upsert=upsert)
    except Exception as exc:
        if upsert and is_duplicate_key(exc):
            return Applied.DUPLICATE
        raise
    if result.matched_count or result.upserted_id is not None:
        return Applied.APPLIED
    seen = await collection.find_one({**filter, APPLIED_FIELD: event_id}, {"_id": 1})
    return Applied.DUPLICATE if seen is not None else Applied.NO_MATCH
