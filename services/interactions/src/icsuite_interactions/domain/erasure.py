"""Erasure of what an interaction record holds about its customer (``ic.privacy.erasure-requested.v1``).

Erasing overrides the read-only rule of closed records: the texts become ``[erased]`` (notes, the scratch
pad, attachment names), the addresses (the caller's number or e-mail address) too, free-form maps (activity
details, a callback's request attributes, the data of late events) are emptied; the attachments' content
is deleted by the handler. Ids, times, statuses and outcomes stay, so the timeline and the counts hold.
"""

from __future__ import annotations

from dataclasses import replace

from icsuite_chassis.erasure import ERASED
from icsuite_chassis.store import Change, Stored

from .record import Record


def personal_data(record: Record) -> dict[str, int]:
    """How many items of each kind still hold personal data."""
    return {
        "notes": sum(n.text != ERASED for n in record.notes),
        "scratch_pads": int(record.scratch_pad is not None and record.scratch_pad.text != ERASED),
        "attachments": sum(a.name != ERASED for a in record.attachments),
        "addresses": sum(a not in (None, ERASED) for a in (record.from_address, record.to_address)),
        "activity_details": sum(bool(a.details) for a in record.activities),
        "attributes": int(bool(record.attributes)),
        "late_events": sum(bool(e.data) for e in record.late_events),
    }


def _erased(value: str | None) -> str | None:
    return None if value is None else ERASED


def erased_record(record: Record) -> Record:
    return replace(
        record,
        notes=tuple(replace(n, text=ERASED) for n in record.notes),
        scratch_pad=replace(record.scratch_pad, text=ERASED) if record.scratch_pad is not None else None,
        attachments=tuple(replace(a, name=ERASED) for a in record.attachments),
        from_address=_erased(record.from_address), to_address=_erased(record.to_address),
        activities=tuple(replace(a, details={}) for a in record.activities),
        attributes={}, late_events=tuple(replace(e, data={}) for e in record.late_events))


def decide_erase(current: Stored[Record] | None) -> Change[Record] | None:
    """The record with its personal data erased; ``None`` when nothing is left to erase."""
    if current is None or not any(personal_data(current.state).values()):
        return None
    return Change(erased_record(current.state))


def add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    return {kind: total.get(kind, 0) + more.get(kind, 0) for kind in {*total, *more}}
