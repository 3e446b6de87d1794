"""Callback callers: the requester of a callback without an account, looked up by the number to call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from icsuite_chassis.store import Change, Stored
from icsuite_contracts.cloudevents import Envelope

MAX_CALLER_CANDIDATES = 100


@dataclass(frozen=True)
class CallerLookup:
    request_id: str
    callback_number: str
    account_id: str | None
    candidates: tuple[str, ...]
    identified_at: datetime


def caller_lookup(request_id: str, callback_number: str, matches: Sequence[str], now: datetime) -> CallerLookup:
    """Exactly one match identifies the caller; otherwise the candidates, best first."""
    candidates = tuple(matches[:MAX_CALLER_CANDIDATES])
    account_id = candidates[0] if len(candidates) == 1 else None
    return CallerLookup(request_id, callback_number, account_id, candidates, now)


def decide_caller(current: Stored[CallerLookup] | None, lookup: CallerLookup,
                  event: Envelope) -> Change[CallerLookup] | None:
    """A request is looked up once; its event leaves with the stored result."""
    if current is not None:
        return None
    return Change(lookup, [event])
