"""Handlers on the in-memory aggregate store (the chassis's contract test keeps it equal to MongoDB's)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest
from icsuite_chassis.store import InMemoryAggregateStore
from icsuite_chassis.testing import SettableClock

from icsuite_interactions.attachments import StoredContent
from icsuite_interactions.domain.record import Record
from icsuite_interactions.handlers import EventIntake, RecordCommands
from icsuite_interactions.jobs import SelfServiceCloser
from icsuite_interactions.repository import INTERACTIONS, RecordCodec, state_of

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


class MemoryRecords:
    """The repository's reads, on the in-memory store."""

    def __init__(self, store: InMemoryAggregateStore[Record]):
        self.store = store

    async def get(self, interaction_id: str) -> Record | None:
        return state_of(await self.store.get(interaction_id))

    async def get_many(self, interaction_ids: list[str]) -> dict[str, Record]:
        found = {i: await self.get(i) for i in interaction_ids}
        return {i: r for i, r in found.items() if r is not None}

    async def open_for_callback(self, callback_id: str) -> list[str]:
        return [doc["_id"] for doc in self.store.documents.values()
                if doc.get("callback_id") == callback_id and doc.get("status") == "open"]

    async def due_for_self_service(self, now: datetime, limit: int) -> list[str]:
        due = sorted((doc["self_service_due_at"], doc["_id"]) for doc in self.store.documents.values()
                     if doc.get("self_service_due_at") is not None and doc["self_service_due_at"] <= now)
        return [doc_id for _, doc_id in due[:limit]]


@dataclass
class MemoryContent:
    """Attachment content in a dict (GridFS in the service)."""

    files: dict[Any, bytes] = field(default_factory=dict)
    ids: count = field(default_factory=count)

    async def put(self, interaction_id: str, attachment_id: str, name: str, media_type: str,
                  content: bytes) -> StoredContent:
        file_id = next(self.ids)
        self.files[file_id] = content
        return StoredContent(file_id, hashlib.sha256(content).hexdigest())

    async def delete(self, file_id: Any) -> None:
        self.files.pop(file_id, None)


@dataclass
class Kit:
    store: InMemoryAggregateStore[Record]
    records: MemoryRecords
    content: MemoryContent
    commands: RecordCommands
    intake: EventIntake
    closer: SelfServiceCloser
    clock: SettableClock


@pytest.fixture
def kit() -> Kit:
    clock = SettableClock(T0)
    store: InMemoryAggregateStore[Record] = InMemoryAggregateStore(INTERACTIONS, RecordCodec())
    records, content = MemoryRecords(store), MemoryContent()
    ids = count(1)
    commands = RecordCommands(store, records, content, clock=clock,  # type: ignore[arg-type]
                              new_id=lambda prefix: f"{prefix}-{next(ids)}")
    intake = EventIntake(store, records, clock=clock, self_service_grace_s=3.0)
    return Kit(store, records, content, commands, intake, SelfServiceCloser(store, records, clock=clock, grace_s=3.0), clock)
