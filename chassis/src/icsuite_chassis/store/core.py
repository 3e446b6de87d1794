"""The aggregate store: the one way a service changes a document it owns.

A service never writes its aggregates' documents itself. It asks the store to change one (or a batch):

1. the store **loads** the document by id and decodes it with the service's :class:`Codec` into a typed
   state (a dataclass or a Pydantic model), together with its integer version;
2. the service's pure **decide** function gets that :class:`Stored` state (or ``None`` if there is no
   document yet) and answers a :class:`Change` (the new state and the events to publish) or ``None``
   (nothing to change);
3. the store **writes** the new state back guarded by the version it read, in one single-document write
   that also records the applied event id (``_applied``, the last :data:`APPLIED_KEEP`) and appends the
   events to the document's outbox (``_outbox``, published by the chassis relay);
4. a write that lost a race with another writer is decided again on a fresh read, up to ``attempts``
   rounds; then :class:`StoreConflict` is raised (the consumer retries it like an unreachable database,
   a gateway answers 409).

An event id already in ``_applied`` is a redelivery: the decision is skipped and the outcome says
``duplicate``. So nothing is lost (the effect, the record that it was applied and the events it causes
are one atomic write) and nothing is doubled (a redelivered event finds its id).

The loop lives here, once; a backend only reads documents by id and performs a batch of guarded writes.
:class:`~icsuite_chassis.store.mongo.MongoAggregateStore` writes to MongoDB,
:class:`~icsuite_chassis.store.memory.InMemoryAggregateStore` to a dict for unit tests, and one shared
contract test (``chassis/tests/contract/test_store_contract.py``) runs against both.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from icsuite_contracts.cloudevents import Envelope, to_document

from ..errors import StoreConflict
from ..limits import EventTooLarge, check_event_size

S = TypeVar("S")
VERSION_FIELD = "_version"
APPLIED_FIELD = "_applied"
OUTBOX_FIELD = "_outbox"
APPLIED_KEEP = 256
RESERVED_FIELDS = frozenset({"_id", VERSION_FIELD, APPLIED_FIELD, OUTBOX_FIELD, "_v"})


class Codec(Protocol[S]):
    """Turns a typed state into the fields of its document and back (``_id`` and ``_``-fields excluded)."""

    def encode(self, state: S) -> dict[str, Any]: ...

    def decode(self, doc: Mapping[str, Any]) -> S: ...


class PlainCodec:
    """States that are plain dicts of the document's fields (small projections, tests)."""

    def encode(self, state: dict[str, Any]) -> dict[str, Any]:
        return dict(state)

    def decode(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        return dict(doc)


@dataclass(frozen=True)
class Stored(Generic[S]):
    """A state as stored: its id, the typed state and the version the next write is guarded by."""

    id: Any
    state: S
    version: int


@dataclass(frozen=True)
class Change(Generic[S]):
    """What a decision answers: the new state and the events it causes (published through the outbox)."""

    state: S
    events: Sequence[Envelope] = ()


@dataclass(frozen=True)
class Outcome(Generic[S]):
    """The result of one change: the state after it, what it published, and whether it was a redelivery."""

    stored: Stored[S] | None
    events: tuple[Envelope, ...] = ()
    changed: bool = False
    duplicate: bool = False


Decide = Callable[["Stored[S] | None"], "Change[S] | None"]


@dataclass
class Write:
    """One guarded single-document write, as a backend performs it."""

    doc_id: Any
    expected_version: int | None  # None: the document has no version field yet (written before the store)
    exists: bool
    new_version: int
    set_fields: dict[str, Any]
    unset_fields: list[str]
    applied: list[str]
    outbox: list[dict[str, Any]]


@dataclass
class _Doc:
    """What the loop knows of one document while it plans a batch."""

    doc_id: Any
    exists: bool
    version: int | None
    fields: dict[str, Any]
    applied: set[str]
    original_fields: dict[str, Any] = field(default_factory=dict)
    new_applied: list[str] = field(default_factory=list)
    new_outbox: list[dict[str, Any]] = field(default_factory=list)
    touched: bool = False
    state: Any = None  # the typed state: decoded once when first asked, then each change's new state
    decoded: bool = False

    @classmethod
    def of(cls, doc_id: Any, raw: Mapping[str, Any] | None) -> _Doc:
        if raw is None:
            return cls(doc_id, False, 0, {}, set())
        fields = {k: v for k, v in raw.items() if k not in RESERVED_FIELDS}
        version = raw.get(VERSION_FIELD)
        return cls(doc_id, True, int(version) if version is not None else None, fields,
                   set(raw.get(APPLIED_FIELD) or ()), dict(fields))

    def write(self) -> Write:
        current = self.version or 0
        changed = {k: v for k, v in self.fields.items() if self.original_fields.get(k, _MISSING) != v}
        unset = [k for k in self.original_fields if k not in self.fields]
        return Write(self.doc_id, self.version, self.exists, current + 1, changed, unset,
                     self.new_applied, self.new_outbox)


_MISSING = object()


def outbox_entries(events: Iterable[Envelope]) -> list[dict[str, Any]]:
    """The outbox entries of ``events``; :class:`EventTooLarge` (413, naming the field) when one is too large."""
    events = list(events)
    check_event_size(events)
    return [to_document(event) for event in events]


@dataclass(frozen=True)
class Item(Generic[S]):
    """One change of a batch: the document, the event that causes it (for idempotency) and the decision."""

    doc_id: Any
    decide: Decide[S]
    event_id: str | None = None


def write_update(write: Write) -> dict[str, Any]:
    """The MongoDB update document of one guarded write (also what the in-memory backend interprets)."""
    update: dict[str, Any] = {"$set": {**write.set_fields, VERSION_FIELD: write.new_version}}
    if write.unset_fields:
        update["$unset"] = {name: "" for name in write.unset_fields}
    push: dict[str, Any] = {}
    if write.applied:
        push[APPLIED_FIELD] = {"$each": write.applied, "$slice": -APPLIED_KEEP}
    if write.outbox:
        push[OUTBOX_FIELD] = {"$each": write.outbox}
    if push:
        update["$push"] = push
    return update


async def back_off(attempt: int) -> None:
    """A random pause that grows with the attempts, so that writers racing for one document spread out."""
    await asyncio.sleep(random.uniform(0, min(0.001 * 2**attempt, 0.2)))
