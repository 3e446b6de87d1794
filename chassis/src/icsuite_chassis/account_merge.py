"""One service's part of merging and unmerging duplicate accounts (``ic.account-merges.v1``), the same in
every service that keeps objects of an account (interactions, callbacks, follow-ups, alerts).

Each service names its :class:`Movable` kinds: a store whose states carry an ``account_id`` (or any other
:class:`MovableKind`: what belongs to an account by id, and how those ids move). A merge is
recorded in the service's ``account_merges`` collection (``_id`` = ``merge_id``), changed only through the
store, and applied in steps that each survive a crash:

1. **record** what belongs to the source now, per kind, by id (objects found on a redelivery are added);
2. **move** each recorded object to the target: a store change with the merge event's id, which moves it
   only while it still belongs to the source (a redelivered merge moves nothing twice);
3. **mark** the record ``merged`` with the counts moved.

An unmerge moves exactly the recorded objects back (only those still on the target), so objects created
for the target after the merge stay with it, and marks the record ``unmerged``; a merge event that arrives
again after its unmerge changes nothing. The record is the service's audit of the merge: who, when, what.

Read models that keep lists of accounts (candidates, facts) answer a merged account as the account it was
merged into when they are read: :func:`merge_groups` names, per account, the surviving account and the
accounts merged into it now (from the same records), so an unmerge restores them without a write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from icsuite_contracts.account_merges_v1 import TOPIC, AccountMerged, AccountUnmerged
from icsuite_contracts.cloudevents import Envelope

from .clock import Clock
from .consumer import Reject
from .runtime import ServiceRuntime
from .store import AggregateStore, Change, Item, Stored

ACCOUNT_MERGES = "account_merges"
"""The collection of a service's merge records."""
MOVE_LIMIT = 100_000
"""The most objects of one kind a merge moves (far more than any account holds)."""
ACTIVE = ("recorded", "merged")
"""The statuses of a merge whose source counts as merged (a merge being applied counts, an undone one not)."""
MAX_GROUP = 1000
"""The most merge records one read of :func:`merge_groups` answers."""


def account_attribute(state: Any) -> str | None:
    return getattr(state, "account_id", None)


def with_account_attribute(state: Any, account_id: str) -> Any:
    return replace(state, account_id=account_id)


class MovableKind(Protocol):
    """What follows an account through a merge: ``belonging_to`` names its ids that belong to an account now,
    ``move`` moves those of ``ids`` that still belong to ``from_account`` (``event_id``: the merge's or the
    unmerge's event, for the store's redelivery check)."""

    kind: str

    async def belonging_to(self, account_id: str) -> list[str]: ...

    async def move(self, ids: Sequence[str], from_account: str, to_account: str, event_id: str) -> None: ...


@dataclass(frozen=True)
class Movable:
    """A kind of object that follows its account through a merge (its documents have an ``account_id``)."""

    kind: str
    store: AggregateStore[Any]
    account_of: Callable[[Any], str | None] = account_attribute
    with_account: Callable[[Any, str], Any] = with_account_attribute
    after: Callable[[Sequence[str], str], Awaitable[Any]] | None = None
    """Called with the ids moved and the account they now belong to (read models that name the account)."""

    async def belonging_to(self, account_id: str) -> list[str]:
        return [s.id for s in await self.store.find({"account_id": account_id}, limit=MOVE_LIMIT)]

    async def move(self, ids: Sequence[str], from_account: str, to_account: str, event_id: str) -> None:
        await self.store.change_many([Item(doc_id, lambda current: decide_move(
            current, self, from_account, to_account), event_id) for doc_id in ids])
        if self.after is not None:
            await self.after(ids, to_account)


@dataclass(frozen=True)
class MergeRecord:
    merge_id: str
    source_account_id: str
    target_account_id: str
    status: str = "recorded"
    """``recorded`` (moving), ``merged`` or ``unmerged``."""
    moved: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by: str | None = None
    merged_at: datetime | None = None
    unmerged_by: str | None = None
    unmerged_at: datetime | None = None

    def counts(self) -> dict[str, int]:
        return {kind: len(ids) for kind, ids in self.moved.items()}


class MergeRecordCodec:
    def encode(self, state: MergeRecord) -> dict[str, Any]:
        return {"merge_id": state.merge_id, "source_account_id": state.source_account_id,
                "target_account_id": state.target_account_id, "status": state.status,
                "moved": {kind: list(ids) for kind, ids in state.moved.items()}, "counts": state.counts(),
                "by": state.by, "merged_at": state.merged_at, "unmerged_by": state.unmerged_by,
                "unmerged_at": state.unmerged_at}

    def decode(self, doc: Mapping[str, Any]) -> MergeRecord:
        return MergeRecord(doc["merge_id"], doc["source_account_id"], doc["target_account_id"],
                           doc.get("status", "recorded"),
                           {kind: tuple(ids) for kind, ids in (doc.get("moved") or {}).items()}, doc.get("by"),
                           doc.get("merged_at"), doc.get("unmerged_by"), doc.get("unmerged_at"))


def decide_record(current: Stored[MergeRecord] | None, event: AccountMerged,
                  found: Mapping[str, Sequence[str]]) -> Change[MergeRecord] | None:
    """Record what belongs to the source (adding what a redelivery found); nothing once merged or undone."""
    if current is not None and current.state.status != "recorded":
        return None
    before = current.state.moved if current is not None else {}
    moved = {kind: tuple(dict.fromkeys([*before.get(kind, ()), *found.get(kind, ())]))
             for kind in sorted({*before, *found})}
    if current is not None and moved == dict(before):
        return None
    return Change(MergeRecord(event.merge_id, event.source_account_id, event.target_account_id, "recorded",
                              moved, event.merged_by))


def decide_mark(current: Stored[MergeRecord] | None, status: str, at: datetime,
                by: str | None = None) -> Change[MergeRecord] | None:
    if current is None or current.state.status == status:
        return None
    if status == "merged":
        return Change(replace(current.state, status=status, merged_at=at))
    return Change(replace(current.state, status=status, unmerged_by=by, unmerged_at=at))


def decide_unrecorded_unmerge(current: Stored[MergeRecord] | None, event: AccountUnmerged,
                              at: datetime) -> Change[MergeRecord] | None:
    """An unmerge of a merge this service never applied: recorded as undone, so that it never applies."""
    if current is not None:
        return None
    return Change(MergeRecord(event.merge_id, event.source_account_id, event.target_account_id, "unmerged",
                              {}, None, None, event.unmerged_by, at))


def decide_move(current: Stored[Any] | None, movable: Any, from_account: str,
                to_account: str) -> Change[Any] | None:
    """An object follows the merge (or its undoing) only while it still belongs to the account it leaves."""
    if current is None or movable.account_of(current.state) != from_account:
        return None
    return Change(movable.with_account(current.state, to_account))


async def _move(movables: Sequence[MovableKind], moved: Mapping[str, Sequence[str]], from_account: str,
                to_account: str, event_id: str) -> None:
    for movable in movables:
        ids = list(moved.get(movable.kind, ()))
        if ids:
            await movable.move(ids, from_account, to_account, event_id)


async def apply_merge(records: AggregateStore[MergeRecord], movables: Sequence[MovableKind], event: AccountMerged,
                      event_id: str, clock: Clock) -> MergeRecord | None:
    """Record, move and mark (see the module's description); the record, or None if it was undone."""
    current = await records.get(event.merge_id)
    if current is None or current.state.status == "recorded":
        found = {m.kind: await m.belonging_to(event.source_account_id) for m in movables}
        await records.change(event.merge_id, lambda stored: decide_record(stored, event, found))
        current = await records.get(event.merge_id)
    assert current is not None
    if current.state.status == "unmerged":
        return None
    await _move(movables, current.state.moved, event.source_account_id, event.target_account_id, event_id)
    outcome = await records.change(event.merge_id, lambda stored: decide_mark(stored, "merged", clock()))
    return outcome.stored.state if outcome.stored is not None else None


async def apply_unmerge(records: AggregateStore[MergeRecord], movables: Sequence[MovableKind], event: AccountUnmerged,
                        event_id: str, clock: Clock) -> MergeRecord | None:
    """Move exactly what the merge moved back to the source (what is still on the target) and mark it undone."""
    current = await records.get(event.merge_id)
    if current is None:
        outcome = await records.change(event.merge_id, lambda stored: decide_unrecorded_unmerge(stored, event, clock()))
        return outcome.stored.state if outcome.stored is not None else None
    await _move(movables, current.state.moved, event.target_account_id, event.source_account_id, event_id)
    outcome = await records.change(event.merge_id,
                                   lambda stored: decide_mark(stored, "unmerged", clock(), event.unmerged_by))
    return outcome.stored.state if outcome.stored is not None else None


def merge_handlers(records: AggregateStore[MergeRecord], movables: Sequence[MovableKind],
                   clock: Clock) -> dict[str, Callable[[Envelope], Awaitable[None]]]:
    """The consumer handlers of ``ic.account-merges.v1`` (``runtime.add_consumer("account-merges", ...)``)."""

    async def on_merged(envelope: Envelope) -> None:
        if not isinstance(envelope.data, AccountMerged):
            raise Reject(f"{envelope.type} did not decode as AccountMerged")
        await apply_merge(records, movables, envelope.data, envelope.id, clock)

    async def on_unmerged(envelope: Envelope) -> None:
        if not isinstance(envelope.data, AccountUnmerged):
            raise Reject(f"{envelope.type} did not decode as AccountUnmerged")
        await apply_unmerge(records, movables, envelope.data, envelope.id, clock)

    return {AccountMerged.ce_type: on_merged, AccountUnmerged.ce_type: on_unmerged}


def register_merge_consumer(runtime: ServiceRuntime, records: AggregateStore[MergeRecord],
                            movables: Sequence[MovableKind], clock: Clock) -> None:
    runtime.add_consumer("account-merges", [TOPIC], merge_handlers(records, movables, clock))


async def merge_groups(records: AggregateStore[MergeRecord], account_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Of ``account_ids``, each that takes part in a merge now, with its group: the surviving account first,
    then the accounts merged into it (sorted). An account in no merge is left out (one read when none is)."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    found = await records.find({"status": {"$in": list(ACTIVE)}, "$or": [
        {"source_account_id": {"$in": wanted}}, {"target_account_id": {"$in": wanted}}]}, limit=MAX_GROUP)
    merges = {stored.state.merge_id: stored.state for stored in found}
    reached = {m.target_account_id for m in merges.values() if m.source_account_id in wanted} - set(wanted)
    if reached:
        more = await records.find({"status": {"$in": list(ACTIVE)}, "target_account_id": {"$in": sorted(reached)}},
                                  limit=MAX_GROUP)
        merges.update({stored.state.merge_id: stored.state for stored in more})
    into = {m.source_account_id: m.target_account_id for m in merges.values()}
    sources: dict[str, set[str]] = {}
    for source, target in into.items():
        sources.setdefault(target, set()).add(source)
    groups = {}
    for account_id in wanted:
        root = into.get(account_id, account_id)
        if root in sources:
            groups[account_id] = (root, *sorted(sources[root]))
    return groups


def surviving(groups: Mapping[str, Sequence[str]], account_ids: Sequence[str]) -> list[str]:
    """``account_ids`` with each merged account replaced by the account it was merged into, each once, in order."""
    return list(dict.fromkeys(groups[a][0] if a in groups else a for a in account_ids))
