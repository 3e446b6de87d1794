"""The accounts' own phone numbers, replicated from master data (``ic.masterdata.v1`` account snapshots).

``dial: account`` dials one of them. A snapshot never overwrites a newer one (``source_version``), so the
projection is the same whatever the order its events arrive in. An account's numbers include those of the
accounts merged into it (the service's merge records, ``ic.account-merges.v1``): read when asked, so they
follow a merge and its unmerge without a write here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
from icsuite_chassis.account_merge import ACCOUNT_MERGES, MergeRecord, MergeRecordCodec, merge_groups
from icsuite_chassis.store import AggregateStore, Change, InMemoryAggregateStore, Item, MongoAggregateStore, Stored
from icsuite_chassis.store.projection import ProjectionWriter
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.masterdata_v1 import AccountUpserted
from pymongo.asynchronous.database import AsyncDatabase

ACCOUNT_PHONES = "account_phones"
MAX_MERGED = 100
"""The most accounts merged into one whose numbers it dials (far more than a duplicate cluster holds)."""


@dataclass(frozen=True)
class AccountPhones:
    source_version: int
    phones: tuple[str, ...]


class AccountPhonesCodec:
    def encode(self, state: AccountPhones) -> dict[str, Any]:
        return {"source_version": state.source_version, "phones": list(state.phones)}

    def decode(self, doc: Mapping[str, Any]) -> AccountPhones:
        return AccountPhones(int(doc["source_version"]), tuple(doc.get("phones") or ()))


def as_dialable(text: str, country: str | None) -> str:
    """A stored number in E.164 when it parses as a valid number (national numbers in the account's country)."""
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) \
        if phonenumbers.is_valid_number(number) else text


def project(current: AccountPhones | None, envelope: Envelope) -> AccountPhones | None:
    event = envelope.data
    if not isinstance(event, AccountUpserted):
        return None
    if current is not None and current.source_version >= event.source_version:
        return None  # an older snapshot never overwrites a newer one
    country = event.address.country if event.address else None
    phones = tuple(dict.fromkeys(as_dialable(phone, country) for phone in event.phones))
    return AccountPhones(event.source_version, phones)


def key(envelope: Envelope) -> Any:
    return envelope.data.account_id if isinstance(envelope.data, AccountUpserted) else None


def _decision(envelope: Envelope) -> Callable[[Stored[AccountPhones] | None], Change[AccountPhones] | None]:
    def decide(current: Stored[AccountPhones] | None) -> Change[AccountPhones] | None:
        state = project(current.state if current else None, envelope)
        return Change(state) if state is not None else None

    return decide


class AccountNumbers:
    """The projection ``account_phones`` (one document per account id)."""

    def __init__(self, store: AggregateStore[AccountPhones], writer: ProjectionWriter[AccountPhones] | None = None,
                 merges: AggregateStore[MergeRecord] | None = None):
        self.store = store
        self._writer = writer
        self._merges = merges

    @classmethod
    def on_mongo(cls, db: AsyncDatabase[dict[str, Any]]) -> AccountNumbers:
        writer = ProjectionWriter(db, ACCOUNT_PHONES, AccountPhonesCodec(), project, key)
        return cls(writer.store, writer, MongoAggregateStore(db, ACCOUNT_MERGES, MergeRecordCodec()))

    @classmethod
    def in_memory(cls) -> AccountNumbers:
        return cls(InMemoryAggregateStore(ACCOUNT_PHONES, AccountPhonesCodec()))

    async def apply(self, envelopes: Sequence[Envelope]) -> None:
        if self._writer is not None:
            await self._writer.apply(envelopes)
            return
        await self.store.change_many([Item(key(e), _decision(e), e.id) for e in envelopes if key(e) is not None])

    async def of(self, account_id: str | None) -> tuple[str, ...]:
        """The account's own numbers, then those of the accounts merged into it (each number once)."""
        if account_id is None:
            return ()
        phones: list[str] = []
        for account in (account_id, *await self.merged_into(account_id)):
            stored = await self.store.get(account)
            phones.extend(stored.state.phones if stored is not None else ())
        return tuple(dict.fromkeys(phones))

    async def surviving(self, account_ids: Sequence[str]) -> dict[str, str]:
        """Of ``account_ids``, those merged into another account now, each with that account."""
        if self._merges is None or not account_ids:
            return {}
        groups = await merge_groups(self._merges, account_ids)
        return {account_id: group[0] for account_id, group in groups.items() if group[0] != account_id}

    async def merged_into(self, account_id: str) -> list[str]:
        """The accounts merged into ``account_id`` now (a merge being applied counts; an undone one not)."""
        if self._merges is None:
            return []
        records = await self._merges.find({"target_account_id": account_id, "status": {"$in": ["recorded", "merged"]}},
                                          limit=MAX_MERGED)
        return sorted(stored.state.source_account_id for stored in records)
