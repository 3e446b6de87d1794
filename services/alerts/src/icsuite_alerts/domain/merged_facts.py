"""The facts of merged accounts (``ic.account-merges.v1``).

Each account keeps its own facts document, fed by the events that name it (master data keeps naming the
source's agreements after a merge). While an account is merged into another, rules and the facts endpoint
see the group's facts combined (:func:`combine`, read when asked), so an unmerge restores both accounts
without a write. What the other services move with the merge, the source's open callbacks and overdue
follow-ups, moves here too (:data:`MEMBER_KINDS`, recorded by the merge and moved back by the unmerge): their
later events name the surviving account and must find them there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from icsuite_chassis.store import Change, Stored

from .facts import MAX_CONTACTS_KEPT, AccountState

MEMBER_KINDS = ("open_callbacks", "overdue_followups")
"""The facts that hold ids of objects which follow their account through a merge."""


def combine(states: Sequence[AccountState]) -> AccountState:
    """One state of a merge group (the surviving account's first): agreements, flags, open callbacks, overdue
    follow-ups and contacts of all, each once; the newest outcome."""
    if len(states) == 1:
        return states[0]
    first = states[0]
    agreements: dict[str, dict[str, Any]] = {}
    for state in states:
        for agreement_id, agreement in state.agreements.items():
            known = agreements.get(agreement_id)
            if known is None or int(agreement["v"]) > int(known["v"]):
                agreements[agreement_id] = agreement
    contacts: dict[str, Any] = {}
    for state in states:
        for ref, at in state.contacts:
            contacts.setdefault(ref, at)
    outcomes = [s for s in states if s.last_outcome_at is not None]
    newest = max(outcomes, key=lambda s: s.last_outcome_at) if outcomes else first  # type: ignore[arg-type, return-value]
    return replace(first, agreements=agreements, flags=tuple(dict.fromkeys(f for s in states for f in s.flags)),
                   open_callbacks=frozenset().union(*(s.open_callbacks for s in states)),
                   overdue_followups=frozenset().union(*(s.overdue_followups for s in states)),
                   contacts=tuple(sorted(contacts.items(), key=lambda item: item[1]))[-MAX_CONTACTS_KEPT:],
                   last_outcome=newest.last_outcome, last_outcome_at=newest.last_outcome_at)


def members(state: AccountState | None, kind: str) -> frozenset[str]:
    return getattr(state, kind) if state is not None else frozenset()


def decide_members(kind: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Callable[
        [Stored[AccountState] | None], Change[AccountState] | None]:
    """Add or remove ids of ``kind`` (one of :data:`MEMBER_KINDS`) in an account's facts; nothing if they are there
    (or gone) already."""
    if kind not in MEMBER_KINDS:
        raise ValueError(f"{kind} is not a fact of moving objects")

    def decide(current: Stored[AccountState] | None) -> Change[AccountState] | None:
        state = current.state if current is not None else AccountState()
        now = (members(state, kind) | frozenset(add)) - frozenset(remove)
        return Change(replace(state, **{kind: now})) if now != members(state, kind) else None

    return decide
