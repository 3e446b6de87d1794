"""The replica of ``ic.masterdata.v1``: accounts, business agreements and premises, and their lookups.

Each snapshot is projected through the chassis's projection writer (newest ``source_version`` wins, so
the projection does not depend on the order of a record's snapshots). The record's lookup documents are
then brought in line with its current keys: listed under each key it has, unlisted from the keys its last
change took away. That step runs after every delivery, also a redelivered or an outdated one, so a crash
between the two writes is repaired by the redelivery; each lookup write is idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from icsuite_chassis.store import AggregateStore, Change, Item, Outcome, Stored
from icsuite_chassis.store.projection import ProjectionWriter
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.masterdata_v1 import AccountUpserted, BusinessAgreementUpserted, PremiseUpserted

from ..domain.accounts import AccountRecord, account_from_snapshot
from ..domain.lookups import Lookup, decide_index, is_paged
from ..domain.masterdata import Agreement, OpenBillState, Premise, newer_snapshot
from .pages import PagedEntry, index_paged

S = TypeVar("S")
Apply = Callable[[Sequence[Envelope]], Awaitable[list[Outcome[Any]]]]


def account_of(event: AccountUpserted, default_region: str) -> AccountRecord:
    return account_from_snapshot(
        account_id=event.account_id, kind=event.kind, name=event.name, phones=event.phones, emails=event.emails,
        address=event.address.model_dump() if event.address else None, flags=event.flags, status=event.status,
        source_version=event.source_version, default_region=default_region)


def agreement_of(event: BusinessAgreementUpserted) -> Agreement:
    bills = tuple(OpenBillState(b.bill_id, str(b.amount), b.due_date.isoformat()) for b in event.open_bills)
    return Agreement(event.business_agreement_id, event.account_id, str(event.balance), event.currency, bills,
                     event.dunning_level, event.credit_status, event.source_version)


def premise_of(event: PremiseUpserted) -> Premise:
    return Premise(event.premise_id, event.address.model_dump(), tuple(event.account_ids),
                   tuple(event.business_agreement_ids), event.source_version)


class Replica(Generic[S]):
    """One replicated collection: ``to_state`` turns a snapshot event into the record it describes."""

    def __init__(self, to_state: Callable[[Any], S], record_id: Callable[[Any], str], *,
                 store: AggregateStore[S] | None = None, db: Any = None, name: str = "", codec: Any = None):
        """On ``db``: through a :class:`ProjectionWriter` of collection ``name``; else on ``store`` (unit tests)."""
        self._to_state = to_state
        self._record_id = record_id
        if db is not None:
            writer = ProjectionWriter(db, name, codec, self.project, self.key)
            self.store: AggregateStore[S] = writer.store
            self._apply: Apply = writer.apply
        else:
            assert store is not None
            self.store = store
            self._apply = self._apply_to_store

    def project(self, current: S | None, envelope: Envelope) -> S | None:
        return newer_snapshot(current, self._to_state(envelope.data))  # type: ignore[type-var]

    def key(self, envelope: Envelope) -> str:
        return self._record_id(envelope.data)

    async def apply(self, envelopes: Sequence[Envelope]) -> list[Outcome[S]]:
        """Project snapshots in order; each outcome has the record as it is after it (newer, or unchanged
        by an older snapshot)."""
        return await self._apply(envelopes)

    async def _apply_to_store(self, envelopes: Sequence[Envelope]) -> list[Outcome[S]]:
        return await self.store.change_many([Item(self.key(e), self._decision(e), e.id) for e in envelopes])

    def _decision(self, envelope: Envelope) -> Callable[[Stored[S] | None], Change[S] | None]:
        def decide(current: Stored[S] | None) -> Change[S] | None:
            state = self.project(current.state if current is not None else None, envelope)
            return Change(state) if state is not None else None
        return decide


async def index(lookups: AggregateStore[Lookup], records: Sequence[Stored[Any]]) -> None:
    """List each record under each of its keys and unlist it from the keys its changes took away.

    Several changes of one record chain: the last one's keys count, and every key taken away on the way
    is unlisted. Listing and unlisting are set operations, idempotent by themselves, so no event id is
    recorded: a repeated indexing writes only what is still missing. One guarded write per key."""
    final: dict[str, Any] = {}
    retired: dict[str, set[str]] = {}
    for record in records:
        final[record.id] = record.state
        retired.setdefault(record.id, set()).update(record.state.retired_keys)
    items: list[Item[Lookup]] = []
    paged: list[PagedEntry] = []
    for record_id, state in final.items():
        keys = state.keys()
        labels = state.key_labels() if hasattr(state, "key_labels") else {}
        gone = sorted(retired[record_id] - set(keys))
        paged += [PagedEntry(key, record_id, labels.get(key)) for key in keys if is_paged(key)]
        paged += [PagedEntry(key, record_id, present=False) for key in gone if is_paged(key)]
        items += [Item(key, _index_decision(key, record_id, present=True, label=labels.get(key)))
                  for key in keys if not is_paged(key)]
        items += [Item(key, _index_decision(key, record_id, present=False)) for key in gone if not is_paged(key)]
    if items:
        await lookups.change_many(items)
    await index_paged(lookups, paged)


def _index_decision(key: str, record_id: str, *, present: bool,
                    label: str | None = None) -> Callable[[Stored[Lookup] | None], Change[Lookup] | None]:
    return lambda current: decide_index(current, key, record_id, present=present, label=label)
