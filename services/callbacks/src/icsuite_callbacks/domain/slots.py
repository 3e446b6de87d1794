"""The abuse guard: one record per callback number lists its open requests, at most a limit of them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from .errors import TooManyOpenRequests


@dataclass(frozen=True)
class Slot:
    callback_id: str
    since: datetime


@dataclass(frozen=True)
class NumberSlots:
    """The open requests of one callback number (the record's id is the number)."""

    open: tuple[Slot, ...] = ()

    def holds(self, callback_id: str) -> bool:
        return any(slot.callback_id == callback_id for slot in self.open)


def decide_take_slot(current: NumberSlots | None, callback_id: str, limit: int, now: datetime,
                     stale: frozenset[str] = frozenset()) -> NumberSlots | None:
    """A slot for ``callback_id`` (``stale`` holders freed first); None when it holds one already.

    :class:`TooManyOpenRequests` when the number has ``limit`` open requests.
    """
    slots = current or NumberSlots()
    kept = tuple(slot for slot in slots.open if slot.callback_id not in stale)
    if any(slot.callback_id == callback_id for slot in kept):
        return replace(slots, open=kept) if len(kept) != len(slots.open) else None
    if len(kept) >= limit:
        raise TooManyOpenRequests(
            f"this callback number already has {limit} open callback requests; a new one is accepted when "
            "one of them is completed, cancelled or expired")
    return replace(slots, open=(*kept, Slot(callback_id, now)))


def decide_give_back(current: NumberSlots | None, callback_id: str) -> NumberSlots | None:
    """The slot of a closed request is free again; None when it held none."""
    if current is None or not current.holds(callback_id):
        return None
    return replace(current, open=tuple(slot for slot in current.open if slot.callback_id != callback_id))
