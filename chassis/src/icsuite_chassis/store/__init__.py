"""The aggregate store and the projection writer: the only ways a service changes its documents.

See :mod:`.core` for the guarantees and ``chassis/README.md`` ("The store") for a walk-through.
"""

from .base import AggregateStore
from .core import (
    APPLIED_FIELD,
    OUTBOX_FIELD,
    VERSION_FIELD,
    Change,
    Codec,
    EventTooLarge,
    Item,
    Outcome,
    PlainCodec,
    StoreConflict,
    Stored,
    outbox_entries,
)
from .memory import InMemoryAggregateStore
from .mongo import MongoAggregateStore, store_indexes

__all__ = [
    "APPLIED_FIELD",
    "OUTBOX_FIELD",
    "VERSION_FIELD",
    "AggregateStore",
    "Change",
    "Codec",
    "EventTooLarge",
    "InMemoryAggregateStore",
    "Item",
    "MongoAggregateStore",
    "Outcome",
    "PlainCodec",
    "StoreConflict",
    "Stored",
    "outbox_entries",
    "store_indexes",
]
