"""Corrections of a read model that its topic does not carry, kept so that a rebuild reproduces them.

A read model fed from a topic is changed by two more things than the topic's events:

- **forget**: retention purged the source records, so their documents go (a timeline entry of a purged
  interaction); a late or replayed event of a forgotten id must never bring the document back;
- **assign**: another process set a field of some documents (an account merge moves an interaction's
  entry to the surviving account, its unmerge moves it back).

A replay of the topic alone knows neither. So each correction is first written as one document of the
``_projections_corrections`` collection (through the store, ``_id`` unique per correction) with the
projection's name, the ids, the field and value, and the time it was made; only then is it applied to the
live collection (and to a rebuild's shadow). Writing first makes it survive a crash: the caller's retry
writes another correction with the same effect, and both are idempotent (a forget deletes what is there,
an assign sets a value that may be set already).

:func:`fold` applies a projection's corrections in the order they were made to a store, after a replay:
a merge then its unmerge give the entry back to the merged account, as they did live; a forgotten id is
deleted whatever the replay wrote. Folding twice gives the same state (each step is idempotent and the
order is the same), and a rebuild that crashed is started again from an empty shadow.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..clock import Clock, utc_now
from ..mongo import IndexSpec
from .base import AggregateStore
from .core import Change, Decide, Item, S, Stored

CORRECTIONS = "_projections_corrections"
FORGET = "forget"
ASSIGN = "assign"
CORRECTIONS_READ_LIMIT = 10_000_000
CORRECTION_INDEXES = [IndexSpec(CORRECTIONS, [("projection", 1), ("kind", 1), ("ids", 1)]),
                      IndexSpec(CORRECTIONS, [("projection", 1), ("at", 1)])]


@dataclass(frozen=True)
class Correction:
    projection: str
    kind: str
    """:data:`FORGET` or :data:`ASSIGN`."""
    ids: tuple[Any, ...]
    at: datetime
    field: str | None = None
    value: Any = None


class CorrectionCodec:
    def encode(self, state: Correction) -> dict[str, Any]:
        return {"projection": state.projection, "kind": state.kind, "ids": list(state.ids), "at": state.at,
                "field": state.field, "value": state.value}

    def decode(self, doc: Mapping[str, Any]) -> Correction:
        return Correction(doc["projection"], doc["kind"], tuple(doc.get("ids") or ()), doc["at"], doc.get("field"),
                          doc.get("value"))


def with_value(state: Any, field: str, value: Any) -> Any:
    """``state`` with ``field`` set: a dataclass is replaced, a dict copied."""
    if dataclasses.is_dataclass(state) and not isinstance(state, type):
        return dataclasses.replace(state, **{field: value})
    return {**state, field: value}


def _value_of(state: Any, field: str) -> Any:
    return state.get(field) if isinstance(state, Mapping) else getattr(state, field, None)


def decide_assign(field: str, value: Any) -> Decide[Any]:
    """Set ``field`` of an existing document (a missing one stays missing; an equal value changes nothing)."""

    def decide(current: Stored[Any] | None) -> Change[Any] | None:
        if current is None or _value_of(current.state, field) == value:
            return None
        return Change(with_value(current.state, field, value))

    return decide


async def apply_correction(target: AggregateStore[S], correction: Correction) -> None:
    """Apply one correction to ``target`` (idempotent)."""
    if not correction.ids:
        return
    if correction.kind == FORGET:
        await target.purge({"_id": {"$in": list(correction.ids)}}, limit=len(correction.ids))
        return
    assert correction.field is not None
    await target.change_many([Item(doc_id, decide_assign(correction.field, correction.value))
                              for doc_id in correction.ids])


async def fold(target: AggregateStore[S], corrections: Sequence[Correction]) -> int:
    """Apply ``corrections`` to ``target`` in the given order (:meth:`CorrectionLog.in_order`); how many."""
    for correction in corrections:
        await apply_correction(target, correction)
    return len(corrections)


class CorrectionLog:
    """The corrections of one projection, in a store of :class:`Correction` (``_projections_corrections``)."""

    def __init__(self, store: AggregateStore[Correction], projection: str, *, clock: Clock = utc_now):
        self.store = store
        self.projection = projection
        self._clock = clock

    async def record(self, kind: str, ids: Sequence[Any], field: str | None = None,
                     value: Any = None) -> Correction:
        """Write one correction (before it is applied anywhere) and answer it."""
        correction = Correction(self.projection, kind, tuple(dict.fromkeys(ids)), self._clock(), field, value)
        correction_id = f"{self.projection}:{correction.at:%Y%m%dT%H%M%S%f}:{uuid.uuid4().hex}"
        await self.store.change(correction_id, lambda current: None if current else Change(correction))
        return correction

    async def forgotten(self, ids: Collection[Any]) -> set[Any]:
        """Those of ``ids`` that a forget correction names (one indexed read)."""
        if not ids:
            return set()
        found = await self.store.find({"projection": self.projection, "kind": FORGET, "ids": {"$in": list(ids)}},
                                      limit=CORRECTIONS_READ_LIMIT)
        named = {doc_id for stored in found for doc_id in stored.state.ids}
        return {doc_id for doc_id in ids if doc_id in named}

    async def naming(self, ids: Collection[Any]) -> list[Correction]:
        """The corrections that name any of ``ids``, oldest first (one indexed read)."""
        if not ids:
            return []
        found = await self.store.find({"projection": self.projection, "kind": {"$in": [FORGET, ASSIGN]},
                                       "ids": {"$in": list(ids)}}, limit=CORRECTIONS_READ_LIMIT)
        return [stored.state for stored in sorted(found, key=lambda stored: (stored.state.at, str(stored.id)))]

    async def in_order(self) -> list[Correction]:
        """Every correction of the projection, oldest first (ties in the order of their ids)."""
        found = await self.store.find({"projection": self.projection}, limit=CORRECTIONS_READ_LIMIT)
        return [stored.state for stored in sorted(found, key=lambda stored: (stored.state.at, str(stored.id)))]
