"""The account facts projection (``accounts``, by account): master data, callbacks, follow-ups, contacts.

A merged account's facts are read together with those of its merge group (see :mod:`..domain.merged_facts`):
the service's merge records (``account_merges``) say which accounts are merged now.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from icsuite_chassis.account_merge import ACCOUNT_MERGES, MergeRecord, MergeRecordCodec, merge_groups
from icsuite_chassis.store import AggregateStore, MongoAggregateStore
from icsuite_chassis.store.projection import ProjectionWriter
from icsuite_contracts.cloudevents import Envelope
from pymongo.asynchronous.database import AsyncDatabase

from ..domain.facts import AccountState, apply_to_account
from ..domain.merged_facts import combine, decide_members, members
from ..repository import aware
from .event_log import observation_of


class AccountCodec:
    def encode(self, state: AccountState) -> dict[str, Any]:
        return {
            "agreements": [{"id": key, **value} for key, value in sorted(state.agreements.items())],
            "account_version": state.account_version,
            "flags": list(state.flags),
            "open_callbacks": sorted(state.open_callbacks),
            "overdue_followups": sorted(state.overdue_followups),
            "contacts": [{"ref": ref, "at": at} for ref, at in state.contacts],
            "last_outcome": state.last_outcome,
            "last_outcome_at": state.last_outcome_at,
        }

    def decode(self, doc: Mapping[str, Any]) -> AccountState:
        return AccountState(
            agreements={a["id"]: {k: v for k, v in a.items() if k != "id"} for a in doc.get("agreements") or ()},
            account_version=doc.get("account_version"),
            flags=tuple(doc.get("flags") or ()),
            open_callbacks=frozenset(doc.get("open_callbacks") or ()),
            overdue_followups=frozenset(doc.get("overdue_followups") or ()),
            contacts=tuple((c["ref"], aware(c["at"])) for c in doc.get("contacts") or ()),
            last_outcome=doc.get("last_outcome"),
            last_outcome_at=aware(doc.get("last_outcome_at")),
        )


def _project(state: AccountState | None, envelope: Envelope) -> AccountState | None:
    return apply_to_account(state or AccountState(), observation_of(envelope))


class AccountFacts:
    """The account an event changes is the event's own ``account_id`` or, without one, its contact's
    account (known only after the contacts projection took the event): the caller names it per event."""

    def __init__(self, make_writer: Callable[..., Any], merges: AggregateStore[MergeRecord] | None = None):
        """``make_writer(name, codec, project, key)``: a ProjectionWriter (or its in-memory twin in tests);
        ``merges``: the service's merge records (none: no account is merged)."""
        self._routes: dict[str, str] = {}
        self.writer = make_writer("accounts", AccountCodec(), _project, self._account_of)
        self.merges = merges

    def _account_of(self, envelope: Envelope) -> str | None:
        return self._routes.get(envelope.id)

    async def after_each(self, envelopes: Sequence[Envelope],
                         account_ids: Sequence[str | None]) -> list[AccountState | None]:
        """Apply each event to its account (once; ``None``: none); each account's state right after its event."""
        routed = {e.id: a for e, a in zip(envelopes, account_ids, strict=True) if a is not None}
        self._routes.update(routed)
        try:
            applied, groups = await asyncio.gather(self.writer.apply(envelopes), self.groups(set(routed.values())))
        finally:
            for event_id in routed:
                self._routes.pop(event_id, None)
        outcomes = iter(applied)
        others = await self._states({m for a, group in groups.items() for m in group if m != a})
        after: list[AccountState | None] = []
        for account_id in account_ids:
            stored = next(outcomes).stored if account_id is not None else None
            own = stored.state if stored is not None else AccountState()
            after.append(None if account_id is None else self._combined(account_id, own, groups, others))
        return after

    async def get(self, account_id: str) -> AccountState | None:
        """The account's facts, with those of its merge group when it is merged (None: nothing is known)."""
        group = (await self.groups([account_id])).get(account_id, (account_id,))
        states = await self._states(set(group))
        if not states:
            return None
        return combine([states.get(member, AccountState()) for member in group])

    async def groups(self, account_ids: Sequence[str] | set[str]) -> dict[str, tuple[str, ...]]:
        """Of ``account_ids``, those merged now, each with its group (the surviving account first)."""
        return await merge_groups(self.merges, sorted(account_ids)) if self.merges is not None else {}

    async def _states(self, account_ids: set[str]) -> dict[str, AccountState]:
        if not account_ids:
            return {}
        found = await self.writer.store.get_many(sorted(account_ids))
        return {account_id: stored.state for account_id, stored in found.items()}

    @staticmethod
    def _combined(account_id: str, own: AccountState, groups: Mapping[str, tuple[str, ...]],
                  others: Mapping[str, AccountState]) -> AccountState:
        group = groups.get(account_id)
        if group is None:
            return own
        return combine([own if m == account_id else others.get(m, AccountState()) for m in group])


@dataclass(frozen=True)
class FactMembers:
    """A merge's movable kind (``chassis.account_merge.MovableKind``): the ids of open callbacks or overdue
    follow-ups in the source's facts move to the target's with them, and back on the unmerge."""

    kind: str
    store: AggregateStore[AccountState]

    async def belonging_to(self, account_id: str) -> list[str]:
        stored = await self.store.get(account_id)
        return sorted(members(stored.state if stored is not None else None, self.kind))

    async def move(self, ids: Sequence[str], from_account: str, to_account: str, event_id: str) -> None:
        """Those of ``ids`` the account they leave still holds: added to the other, then removed from it (a
        redelivery after a crash between the two finds them added and removes them); each write once per event."""
        leaving = await self.store.get(from_account)
        present = sorted(members(leaving.state if leaving is not None else None, self.kind) & set(ids))
        if not present:
            return
        once = f"{event_id}:{self.kind}"  # one event id per kind: both kinds change the same documents
        await self.store.change(to_account, decide_members(self.kind, add=present), event_id=once)
        await self.store.change(from_account, decide_members(self.kind, remove=present), event_id=once)


def account_writer(db: AsyncDatabase[dict[str, Any]]) -> AccountFacts:
    return AccountFacts(lambda *args: ProjectionWriter(db, *args), MongoAggregateStore(db, ACCOUNT_MERGES,
                                                                                      MergeRecordCodec()))
