"""The kept copy of every consumed event (``event_log``, by event id), replayed by backtests.

A backtest replays the kept events in the order this service took them in (``arrival``), as the live path
saw them: an absence's ``unless`` event that came after its trigger cancels it even when both carry the same
millisecond, whatever their ids. ``arrival`` is a number from a counter document (``sequences``, through the
store), a block reserved per consumed batch, so it grows across batches, restarts and replicas. The Kafka
offset would not do: it orders only the events of one partition, and a trigger and its ``unless`` event often
come on different topics (a contact identified on identity's topic, the contact ended on the CTI's). Events
kept before ``arrival`` existed have none and replay first, by time then id, as they did.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.store import AggregateStore, Change, MongoAggregateStore, PlainCodec, Stored, store_indexes
from icsuite_chassis.store.projection import ProjectionWriter
from icsuite_contracts.cloudevents import Envelope
from pymongo.asynchronous.database import AsyncDatabase

from ..domain.observations import Observation, observe
from ..repository import aware


_SEEN: dict[str, tuple[Envelope, Observation]] = {}
_SEEN_KEEP = 256


def observation_of(envelope: Envelope) -> Observation:
    """What the rules and the projections see of an event (computed once per event, kept for a while)."""
    seen = _SEEN.get(envelope.id)
    if seen is not None and seen[0] is envelope:
        return seen[1]
    if len(_SEEN) >= _SEEN_KEEP:
        _SEEN.pop(next(iter(_SEEN)))
    observation = _observe(envelope)
    _SEEN[envelope.id] = (envelope, observation)
    return observation


def _observe(envelope: Envelope) -> Observation:
    return observe(event_id=envelope.id, ce_type=envelope.type, time=envelope.time,
                   data=envelope.data.model_dump(mode="json"), source=envelope.source,
                   subject=envelope.subject, correlation_id=envelope.correlation_id,
                   causation_id=envelope.causation_id)


@dataclass(frozen=True)
class KeptEvent:
    observation: Observation
    arrival: int | None = None  # the order this service took the event in (None: kept before it was counted)


class KeptEventCodec:
    def encode(self, kept: KeptEvent) -> dict[str, Any]:
        obs = kept.observation
        return {"event_id": obs.event_id, "type": obs.type, "time": obs.time, "data": obs.data, "source": obs.attributes.get("ce_source"),
                "subject": obs.attributes.get("ce_subject"), "correlation_id": obs.attributes.get("ce_correlationid"),
                "causation_id": obs.attributes.get("ce_causationid"), "arrival": kept.arrival}

    def decode(self, doc: Mapping[str, Any]) -> KeptEvent:
        return KeptEvent(observe(event_id=doc.get("event_id") or doc.get("_id") or "", ce_type=doc["type"], time=aware(doc["time"]), data=doc["data"],
                                 source=doc.get("source") or "", subject=doc.get("subject"),
                                 correlation_id=doc.get("correlation_id"), causation_id=doc.get("causation_id")),
                         doc.get("arrival"))


REPLAY_ORDER = [("arrival", 1), ("time", 1), ("_id", 1)]
SEQUENCES = "sequences"


def decide_reserve(count: int):  # type: ignore[no-untyped-def]
    """Reserve ``count`` numbers of a counter document (``next``: the first number not yet handed out)."""

    def decide(current: Stored[dict[str, Any]] | None) -> Change[dict[str, Any]]:
        start = int(current.state.get("next", 1)) if current is not None else 1
        return Change({"next": start + count})

    return decide


Find = Callable[[Mapping[str, Any], Sequence[tuple[str, int]], int], AsyncIterator[Mapping[str, Any]]]


class EventLog:
    """Writes through a ProjectionWriter (a redelivered event is kept once, with its first arrival); reads in
    arrival order."""

    INDEXES = [IndexSpec("event_log", [("time", 1)]), IndexSpec("event_log", [("arrival", 1)])]

    def __init__(self, make_writer: Callable[..., Any], sequences: AggregateStore[dict[str, Any]],
                 find: Find | None = None):
        """``make_writer(name, codec, project, key)``: a ProjectionWriter (or its in-memory twin in tests);
        ``sequences``: the store of the counter documents; ``find(filter, sort, limit)``: the kept documents
        as a stream (by default read from the writer's store at once)."""
        self._arrivals: dict[str, int] = {}
        self.writer = make_writer("event_log", KeptEventCodec(), self._keep, lambda envelope: envelope.id)
        self.sequences = sequences
        self._find = find or self._find_in_store
        self._codec = KeptEventCodec()

    def _keep(self, state: KeptEvent | None, envelope: Envelope) -> KeptEvent | None:
        return KeptEvent(observation_of(envelope), self._arrivals.get(envelope.id)) if state is None else None

    async def _find_in_store(self, filter: Mapping[str, Any], sort: Sequence[tuple[str, int]],
                             limit: int) -> AsyncIterator[Mapping[str, Any]]:
        for doc in await self.writer.store._find(filter, sort, limit):
            yield doc

    def indexes(self) -> list[IndexSpec]:
        return [*self.INDEXES, *self.writer.indexes(), *store_indexes(SEQUENCES)]

    async def keep(self, envelopes: Sequence[Envelope]) -> None:
        """Keep the batch's events, numbered in its order after every event kept before."""
        if not envelopes:
            return
        reserved = await self.sequences.change("event_log", decide_reserve(len(envelopes)))
        assert reserved.stored is not None
        first = int(reserved.stored.state["next"]) - len(envelopes)
        numbered = {envelope.id: first + n for n, envelope in enumerate(envelopes)}
        self._arrivals.update(numbered)
        try:
            await self.writer.apply(envelopes)
        finally:
            for event_id in numbered:
                self._arrivals.pop(event_id, None)

    async def kept(self, *, until: datetime, limit: int) -> AsyncIterator[Observation]:
        """The kept events up to ``until`` (event time), at most ``limit``, in the order they arrived."""
        async for doc in self._find({"time": {"$lte": until}}, REPLAY_ORDER, limit):
            yield self._codec.decode(doc).observation


def event_log(db: AsyncDatabase[dict[str, Any]]) -> EventLog:
    """The event log on MongoDB, read with a cursor (a backtest stops reading at its time limit)."""
    return EventLog(lambda *args: ProjectionWriter(db, *args), MongoAggregateStore(db, SEQUENCES, PlainCodec()),
                    lambda filter, sort, limit: db["event_log"].find(dict(filter)).sort(list(sort)).limit(limit))
