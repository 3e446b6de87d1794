"""Erasure requests: an administrator's request to erase an account, and each service's confirmation.

An erasure is open until all five services confirmed (``ic.privacy.erased.v1``), then ``completed``. One
open erasure per account: a second request while one is open answers that one (the account's claim
document names it); after completion a new request starts a new erasure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from icsuite_chassis.store import Change, Stored
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.privacy_v1 import Erased

from .accounts import AccountRecord
from .callers import CallerLookup
from .context import ContactContext

SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")
"""The services that hold data about an account and confirm its erasure."""


@dataclass(frozen=True)
class Confirmation:
    erased: Mapping[str, int]
    erased_at: datetime


@dataclass(frozen=True)
class Erasure:
    erasure_id: str
    account_id: str
    requested_by: str
    requested_at: datetime
    confirmations: Mapping[str, Confirmation] = field(default_factory=lambda: MappingProxyType({}))
    completed_at: datetime | None = None

    @property
    def status(self) -> str:
        return "completed" if self.completed_at is not None else "open"


@dataclass(frozen=True)
class ErasureClaim:
    """The erasure an account has (``_id`` = ``account_id``): the open one, or the last completed one."""

    account_id: str
    erasure_id: str


def decide_claim(current: Stored[ErasureClaim] | None, account_id: str, new_erasure_id: str,
                 finished_erasure_id: str | None) -> Change[ErasureClaim] | None:
    """Claim the account for ``new_erasure_id`` unless it has an erasure that is not ``finished_erasure_id``
    (the completed one the caller saw): then that one stays and answers."""
    if current is not None and current.state.erasure_id != finished_erasure_id:
        return None
    return Change(ErasureClaim(account_id, new_erasure_id))


def decide_request(current: Stored[Erasure] | None, erasure: Erasure,
                   event: Envelope) -> Change[Erasure] | None:
    """Store a new erasure with its request event; an existing one stays as it is."""
    if current is not None:
        return None
    return Change(erasure, [event])


def _as_stored(at: datetime) -> datetime:
    """A time as the database keeps it (milliseconds), so a confirmation read back compares equal to its event."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _newer(confirmation: Confirmation, than: Confirmation | None) -> bool:
    if than is None:
        return True
    return (confirmation.erased_at, sorted(confirmation.erased.items())) > (than.erased_at, sorted(than.erased.items()))


def decide_confirmation(current: Stored[Erasure] | None, event: Erased) -> Change[Erasure] | None:
    """Record one service's confirmation; complete when all five confirmed.

    A service repeats its confirmation unchanged after a retry (the same counts, time and event id): nothing
    changes. A confirmation with a later ``erased_at`` says the service erased again (its run was lost,
    say, and data came back from a restore): it replaces the earlier one, and a completed erasure's
    ``completed_at`` follows it. An earlier or equal one arriving late changes nothing, so the outcome is
    the same in any order."""
    if current is None or event.service not in SERVICES:
        return None
    confirmation = Confirmation(dict(event.erased), _as_stored(event.erased_at))
    if not _newer(confirmation, current.state.confirmations.get(event.service)):
        return None
    confirmations = {**current.state.confirmations, event.service: confirmation}
    erasure = replace(current.state, confirmations=MappingProxyType(confirmations))
    if set(confirmations) == set(SERVICES):
        erasure = replace(erasure, completed_at=max(c.erased_at for c in confirmations.values()))
    return Change(erasure)


# --- identity's own part: what it holds about the account ------------------------------------------------
ERASED = "[erased]"
TOMBSTONE_VERSION = 2**63 - 1
"""``source_version`` of an erased account: every replicated snapshot is older, so none re-creates it."""


def erased_account(current: Stored[AccountRecord] | None) -> Change[AccountRecord] | None:
    """The account as an anonymised tombstone keeping its id; its lookup keys are retired."""
    if current is None or current.state.status == "erased":
        return None
    record = current.state
    return Change(AccountRecord(account_id=record.account_id, kind=record.kind, name=ERASED, status="erased",
                                source_version=TOMBSTONE_VERSION, created_at=record.created_at,
                                retired_keys=tuple(sorted(set(record.keys()) | set(record.retired_keys)))))


def forgot_retired_keys(current: Stored[AccountRecord] | None) -> Change[AccountRecord] | None:
    """An erased account, once its lookup keys are unlisted, forgets them (each names a number or an address)."""
    if current is None or current.state.status != "erased" or not current.state.retired_keys:
        return None
    return Change(replace(current.state, retired_keys=()))


def erased_context(current: Stored[ContactContext] | None) -> Change[ContactContext] | None:
    """The contact's reported address (the caller's number or e-mail address) and what the automatic
    identification looked up erased."""
    if current is None:
        return None
    context, contact, automatic = current.state, current.state.contact, current.state.automatic
    if contact is not None and contact.address != ERASED:
        context = replace(context, contact=replace(contact, address=ERASED))
    if automatic is not None and automatic.looked_up not in (None, ERASED):
        context = replace(context, automatic=replace(automatic, looked_up=ERASED))
    return Change(context) if context != current.state else None


def erased_caller(current: Stored[CallerLookup] | None) -> Change[CallerLookup] | None:
    """A callback requester's number erased."""
    if current is None or current.state.callback_number == ERASED:
        return None
    return Change(replace(current.state, callback_number=ERASED))
