"""Erasure of what a callback work item holds about its customer (``ic.privacy.erasure-requested.v1``).

The numbers (the one to call back, the one last dialled, the account's number chosen to dial) read
``[erased]``; the request's free-form ``attributes`` are emptied. Ids, times, statuses and outcomes stay.
The account's replicated numbers become an empty tombstone that no later snapshot overwrites.
"""

from __future__ import annotations

from dataclasses import replace

from icsuite_chassis.erasure import ERASED
from icsuite_chassis.store import Change, Stored

from ..projections.accounts import AccountPhones
from .intake import CallerIdentity
from .model import WorkItem

TOMBSTONE_VERSION = 2**63 - 1


def personal_data(item: WorkItem) -> dict[str, int]:
    numbers = (item.callback_number, item.dial_number, item.account_number)
    return {"callback_numbers": sum(n not in (None, ERASED) for n in numbers),
            "attributes": int(bool(item.attributes))}


def decide_erase(current: Stored[WorkItem] | None) -> Change[WorkItem] | None:
    if current is None or not any(personal_data(current.state).values()):
        return None
    item = current.state
    erased = lambda value: None if value is None else ERASED  # noqa: E731
    return Change(replace(item, callback_number=ERASED, dial_number=erased(item.dial_number),
                          account_number=erased(item.account_number), attributes={}))


def decide_erase_phones(current: Stored[AccountPhones] | None) -> Change[AccountPhones] | None:
    if current is not None and current.state.source_version == TOMBSTONE_VERSION:
        return None
    return Change(AccountPhones(TOMBSTONE_VERSION, ()))


def decide_erase_identity(current: Stored[CallerIdentity] | None) -> Change[CallerIdentity] | None:
    """What identity found for a requester: the number it looked up erased."""
    if current is None or current.state.looked_up_number in (None, ERASED):
        return None
    return Change(replace(current.state, looked_up_number=ERASED))
