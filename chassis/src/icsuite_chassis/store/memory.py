"""The aggregate store in a dict, for handler unit tests; the shared contract test keeps it honest."""

from __future__ import annotations

import copy
import functools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from icsuite_contracts.cloudevents import Envelope, from_document

from .base import DEFAULT_ATTEMPTS, AggregateStore
from .core import APPLIED_FIELD, APPLIED_KEEP, OUTBOX_FIELD, VERSION_FIELD, Codec, S, Write
from .matching import matches, sort_key


class InMemoryAggregateStore(AggregateStore[S]):
    """Documents in a dict, written with the same guard as on MongoDB.

    ``published()`` takes the events waiting in every outbox, as the relay would publish them.
    ``shared_with(other)`` makes a second store on the same documents (a second replica, for race tests).
    """

    def __init__(self, name: str, codec: Codec[S], *, kick: Callable[[str, Any], None] | None = None,
                 attempts: int = DEFAULT_ATTEMPTS, queue: Mapping[str, Any] | None = None):
        super().__init__(name, codec, kick=kick, attempts=attempts, queue=queue)
        self.documents: dict[Any, dict[str, Any]] = {}
        self.marks: dict[str, int] = {}

    async def _read(self, ids: Sequence[Any]) -> dict[Any, dict[str, Any]]:
        return {doc_id: self._without_outbox(self.documents[doc_id]) for doc_id in ids if doc_id in self.documents}

    async def _write(self, writes: Sequence[Write]) -> set[Any]:
        lost: set[Any] = set()
        for write in writes:
            current = self.documents.get(write.doc_id)
            if not self._guard_holds(current, write):
                lost.add(write.doc_id)
                continue
            self.documents[write.doc_id] = self._apply(current, write)
        return lost

    async def _find(self, filter: Mapping[str, Any], sort: Sequence[tuple[str, int]],
                    limit: int) -> list[dict[str, Any]]:
        found = [self._without_outbox(doc) for doc in self.documents.values() if matches(doc, filter)]
        found.sort(key=functools.cmp_to_key(lambda a, b: sort_key(a, b, sort)))
        return found[:limit]

    async def _read_mark(self) -> int:
        return self.marks.get(self.name, 0)

    async def raise_mark(self) -> None:
        self.marks[self.name] = self.marks.get(self.name, 0) + 1

    async def _delete(self, ids: Sequence[Any], guard: Mapping[str, Any]) -> set[Any]:
        deleted = {doc_id for doc_id in ids if doc_id in self.documents and matches(self.documents[doc_id], guard)}
        for doc_id in deleted:
            del self.documents[doc_id]
        return deleted

    async def count_by(self, filter: Mapping[str, Any], keys: Sequence[str], *,
                       unwind: str | None = None) -> dict[tuple[Any, ...], int]:
        counts: Counter[tuple[Any, ...]] = Counter()
        for doc in self.documents.values():
            if not matches(doc, filter):
                continue
            for row in _unwound(doc, unwind):
                counts[tuple(row.get(key) for key in keys)] += 1
        return dict(counts)

    def shared_with(self) -> InMemoryAggregateStore[S]:
        """Another store on the same documents, as a second replica sees them."""
        twin: InMemoryAggregateStore[S] = InMemoryAggregateStore(self.name, self.codec, queue=self._queue)
        twin.documents, twin.marks = self.documents, self.marks
        return twin

    def published(self) -> list[Envelope]:
        """Every event waiting in an outbox, in write order per document; the outboxes are emptied."""
        events = []
        for doc in self.documents.values():
            events.extend(from_document(entry) for entry in doc.get(OUTBOX_FIELD, ()))
            doc[OUTBOX_FIELD] = []
        return events

    def put_raw(self, doc: dict[str, Any]) -> None:
        """Store a document as another writer (or an older release) left it."""
        self.documents[doc["_id"]] = copy.deepcopy(doc)

    @staticmethod
    def _without_outbox(doc: Mapping[str, Any]) -> dict[str, Any]:
        return copy.deepcopy({k: v for k, v in doc.items() if k != OUTBOX_FIELD})

    @staticmethod
    def _guard_holds(current: Mapping[str, Any] | None, write: Write) -> bool:
        """What MongoDB's upsert on ``{_id, _version}`` does: a missing document is (re)created."""
        if current is None:
            return True
        if write.exists and write.expected_version is None:
            return VERSION_FIELD not in current
        return VERSION_FIELD in current and current[VERSION_FIELD] == (write.expected_version or 0)

    @staticmethod
    def _apply(current: Mapping[str, Any] | None, write: Write) -> dict[str, Any]:
        doc = copy.deepcopy(dict(current)) if current is not None else {"_id": write.doc_id}
        doc.update(copy.deepcopy(write.set_fields))
        for name in write.unset_fields:
            doc.pop(name, None)
        doc[VERSION_FIELD] = write.new_version
        doc[APPLIED_FIELD] = (list(doc.get(APPLIED_FIELD, [])) + list(write.applied))[-APPLIED_KEEP:]
        doc[OUTBOX_FIELD] = list(doc.get(OUTBOX_FIELD, [])) + copy.deepcopy(write.outbox)
        return doc


def _unwound(doc: Mapping[str, Any], unwind: str | None) -> list[Mapping[str, Any]]:
    if unwind is None:
        return [doc]
    return [{**doc, unwind: value} for value in doc.get(unwind) or ()]
