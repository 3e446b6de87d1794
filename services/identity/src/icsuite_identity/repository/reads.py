"""Read queries: records by id, by lookup key, by contact address, and the account summary."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from icsuite_chassis.store import AggregateStore

from ..domain.accounts import AccountRecord
from ..domain.keys import (
    agreements_of_key,
    email_key,
    phone_key,
    premises_in_key,
    premises_of_key,
    premises_under_key,
)
from ..domain.masterdata import Agreement, Premise
from ..domain.merges import MergeMark
from ..domain.normalize import ContactAddress
from . import Stores

S = TypeVar("S")


async def get_many(store: AggregateStore[S], ids: Sequence[str]) -> dict[str, S]:
    """The states of ``ids`` that exist, by id (one read, ``_id $in``)."""
    return {i: stored.state for i, stored in (await store.get_many(ids)).items()}


Merged = dict[str, AccountRecord | None]
"""Of some account ids, those merged into another account, each with that account (None: it is gone)."""


@dataclass(frozen=True)
class AccountSummary:
    account: AccountRecord
    agreements: list[Agreement]
    premises: list[Premise]


def resolved(accounts: list[AccountRecord], merged: Merged) -> list[AccountRecord]:
    """``accounts`` with each merged one replaced by the account it was merged into, each account once."""
    chosen: dict[str, AccountRecord] = {}
    for account in accounts:
        answer = merged.get(account.account_id, account)
        if answer is not None:
            chosen.setdefault(answer.account_id, answer)
    return list(chosen.values())


class Reads:
    def __init__(self, stores: Stores, marks: AggregateStore[MergeMark] | None = None):
        self.stores = stores
        self.marks = marks

    async def account(self, account_id: str) -> AccountRecord | None:
        stored = await self.stores.accounts.get(account_id)
        return stored.state if stored is not None else None

    async def agreement(self, agreement_id: str) -> Agreement | None:
        stored = await self.stores.agreements.get(agreement_id)
        return stored.state if stored is not None else None

    async def premise(self, premise_id: str) -> Premise | None:
        stored = await self.stores.premises.get(premise_id)
        return stored.state if stored is not None else None

    async def ids_of(self, key: str) -> list[str]:
        stored = await self.stores.lookups.get(key)
        return list(stored.state.ids) if stored is not None else []

    async def find_by_key(self, store: AggregateStore[Any], key: str) -> list[Any]:
        """The records that have ``key`` now (entries left behind are skipped); a merged account answers as
        the account it was merged into: the source's numbers, addresses and names find the target (each
        account once)."""
        ids = await self.ids_of(key)
        if store is self.stores.accounts:
            states, merged = await self.accounts_with_merges(ids)
        else:
            states, merged = await get_many(store, ids), {}
        found = [states[i] for i in ids if i in states and key in states[i].keys()]
        return resolved(found, merged) if store is self.stores.accounts else found

    async def accounts_with_merges(self, ids: Sequence[str]) -> tuple[dict[str, AccountRecord], Merged]:
        """The accounts of ``ids`` by id and which of them are merged (see :data:`Merged`); the accounts and
        their merge marks are read at the same time, one round trip for both (targets only when merged)."""
        states, marks = await asyncio.gather(get_many(self.stores.accounts, ids), self._marks_of(ids))
        return states, await self._targets(marks)

    async def merged_into(self, account_ids: Sequence[str]) -> Merged:
        """Of ``account_ids``, those merged into another account, each with that account (None: it is gone)."""
        return await self._targets(await self._marks_of(account_ids))

    async def _marks_of(self, account_ids: Sequence[str]) -> dict[str, MergeMark]:
        return await get_many(self.marks, account_ids) if self.marks is not None and account_ids else {}

    async def _targets(self, marks: dict[str, MergeMark]) -> Merged:
        into = {i: m.target_account_id for i, m in marks.items() if m.target_account_id is not None}
        targets = await get_many(self.stores.accounts, list(set(into.values()))) if into else {}
        return {source: targets.get(target) for source, target in into.items()}

    async def by_phone(self, e164: str) -> list[AccountRecord]:
        return await self.find_by_key(self.stores.accounts, phone_key(e164))

    async def by_email(self, email: str) -> list[AccountRecord]:
        return await self.find_by_key(self.stores.accounts, email_key(email))

    async def by_contact_address(self, address: ContactAddress) -> list[str]:
        """Account ids for a caller number or sender address, active accounts first."""
        found = await (self.by_phone(address.value) if address.kind == "phone" else self.by_email(address.value))
        return [a.account_id for a in sorted(found, key=lambda a: (a.status != "active", a.account_id))]

    async def summary(self, account_id: str) -> AccountSummary | None:
        account = await self.account(account_id)
        if account is None:
            return None
        agreements = await self.find_by_key(self.stores.agreements, agreements_of_key(account_id))
        premises = await self.find_by_key(self.stores.premises, premises_of_key(account_id))
        return AccountSummary(account, sorted(agreements, key=lambda a: a.business_agreement_id),
                              sorted(premises, key=lambda p: p.premise_id))

    async def premises_in(self, postcode: str) -> list[Premise]:
        return sorted(await self.find_by_key(self.stores.premises, premises_in_key(postcode)),
                      key=lambda p: p.premise_id)

    async def premises_under(self, business_agreement_id: str) -> list[Premise]:
        return sorted(await self.find_by_key(self.stores.premises, premises_under_key(business_agreement_id)),
                      key=lambda p: p.premise_id)
