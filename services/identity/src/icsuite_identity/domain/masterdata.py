"""Replicated master data: business agreements and premises, and the rule every snapshot follows.

Snapshots are full states from the source system; an older ``source_version`` never overwrites a newer
one, whatever order they arrive in, so the replica ends at the newest snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from .errors import AmbiguousAccount
from .keys import agreement_keys, premise_keys
from .normalize import fold, normalize_street


class Snapshot(Protocol):
    source_version: int
    retired_keys: tuple[str, ...]

    def keys(self) -> list[str]: ...


R = TypeVar("R", bound=Snapshot)


def newer_snapshot(current: R | None, incoming: R) -> R | None:
    """``incoming`` if it is newer than ``current`` (with the keys it takes away), else ``None``."""
    if current is not None and current.source_version >= incoming.source_version:
        return None
    retired = tuple(sorted(set(current.keys()) - set(incoming.keys()))) if current is not None else ()
    return replace(incoming, retired_keys=retired)  # type: ignore[type-var]


@dataclass(frozen=True)
class OpenBillState:
    bill_id: str
    amount: str
    due_date: str


@dataclass(frozen=True)
class Agreement:
    """A business agreement (contract account): balance as a decimal string, bills, dunning, credit."""

    business_agreement_id: str
    account_id: str
    balance: str
    currency: str
    open_bills: tuple[OpenBillState, ...]
    dunning_level: int
    credit_status: str
    source_version: int
    retired_keys: tuple[str, ...] = ()

    def keys(self) -> list[str]:
        return agreement_keys(self.account_id)


@dataclass(frozen=True)
class Premise:
    """A premise (supply address) with the accounts and business agreements linked to it."""

    premise_id: str
    address: Mapping[str, Any]
    account_ids: tuple[str, ...]
    business_agreement_ids: tuple[str, ...]
    source_version: int
    retired_keys: tuple[str, ...] = ()

    def keys(self) -> list[str]:
        return premise_keys(postcode=str(self.address["postcode"]), street=str(self.address["street"]),
                            account_ids=self.account_ids, business_agreement_ids=self.business_agreement_ids)


def premise_matches(premise: Premise, street: str | None, city: str | None) -> bool:
    """A premise found by postcode matches the street (as a prefix: ``Hauptstr.`` finds ``Hauptstraße 5``)
    and the city given, case- and accent-insensitively."""
    if street and not normalize_street(str(premise.address["street"])).startswith(normalize_street(street)):
        return False
    return not city or fold(str(premise.address["city"])) == fold(city)


def owning_account(premise: Premise | None, agreement: Agreement | None,
                   agreement_owners: tuple[str, ...] = ()) -> str:
    """The account a business agreement or premise confirmed without one belongs to: the agreement's
    holder; else the one account linked to the premise (or holding its agreements). Several: 409."""
    if agreement is not None:
        return agreement.account_id
    assert premise is not None
    candidates = tuple(dict.fromkeys(premise.account_ids or agreement_owners))
    if len(candidates) != 1:
        raise AmbiguousAccount("premise_id", premise.premise_id, candidates)
    return candidates[0]
