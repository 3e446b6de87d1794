"""The wired service every use case gets: the stores, the replicas and the reads over them, the clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from icsuite_chassis.clock import Clock, utc_now
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope

from ..projections.masterdata import Replica
from ..repository import Stores
from ..repository.merges import MergeStores, memory_merge_stores
from ..repository.reads import Reads
from ..repository.search import AccountSearch

SOURCE = "/identity"


def new_account_id() -> str:
    return f"acc-{uuid.uuid4().hex[:20]}"


@dataclass
class IdentityService:
    """``app.state.service``: what the gateway's routes and the consumers' handlers work with."""

    stores: Stores
    replicas: dict[str, Replica[Any]]
    default_region: str = "DE"
    clock: Clock = utc_now
    new_account_id: Callable[[], str] = field(default=new_account_id)
    settings: Any = None
    merges: MergeStores = field(default_factory=memory_merge_stores)

    def __post_init__(self) -> None:
        self.reads = Reads(self.stores, self.merges.marks)
        self.search = AccountSearch(self.reads, self.default_region)


def caused_by(cause: Envelope, purpose: str) -> Callable[[Any], Envelope]:
    """Envelopes for events caused by ``cause``: derived ids, so a retried handler repeats them."""
    def emit(event: Any) -> Envelope:
        return new_envelope(event, source=SOURCE, id=derive_event_id(cause.id, purpose),
                            correlation_id=cause.correlation_id or event.key(), causation_id=cause.id)
    return emit


def commanded(correlation_id: str, at: datetime) -> Callable[[Any], Envelope]:
    """Envelopes for events of a gateway command, correlated to the object it concerns."""
    return lambda event: new_envelope(event, source=SOURCE, correlation_id=correlation_id, time=at)
