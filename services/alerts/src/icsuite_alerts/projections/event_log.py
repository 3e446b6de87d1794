"""The kept copy of every consumed event (``event_log``, by event id), replayed by backtests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icsuite_chassis.mongo import IndexSpec
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


class KeptEventCodec:
    def encode(self, kept: KeptEvent) -> dict[str, Any]:
        obs = kept.observation
        return {"event_id": obs.event_id, "type": obs.type, "time": obs.time, "data": obs.data, "source": obs.attributes.get("ce_source"),
                "subject": obs.attributes.get("ce_subject"), "correlation_id": obs.attributes.get("ce_correlationid"),
                "causation_id": obs.attributes.get("ce_causationid")}

    def decode(self, doc: Mapping[str, Any]) -> KeptEvent:
        return KeptEvent(observe(event_id=doc.get("event_id") or doc.get("_id") or "", ce_type=doc["type"], time=aware(doc["time"]), data=doc["data"],
                                 source=doc.get("source") or "", subject=doc.get("subject"),
                                 correlation_id=doc.get("correlation_id"), causation_id=doc.get("causation_id")))


def _keep(state: KeptEvent | None, envelope: Envelope) -> KeptEvent | None:
    return KeptEvent(observation_of(envelope)) if state is None else None


class EventLog:
    """Writes through a ProjectionWriter (a redelivered event is kept once); reads in time order."""

    INDEXES = [IndexSpec("event_log", [("time", 1)])]

    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self.writer: ProjectionWriter[KeptEvent] = ProjectionWriter(db, "event_log", KeptEventCodec(), _keep,
                                                                    lambda envelope: envelope.id)
        self._collection = db["event_log"]
        self._codec = KeptEventCodec()

    def indexes(self) -> list[IndexSpec]:
        return [*self.INDEXES, *self.writer.indexes()]

    async def keep(self, envelopes: Sequence[Envelope]) -> None:
        await self.writer.apply(envelopes)

    async def kept(self, *, until: datetime, limit: int) -> AsyncIterator[Observation]:
        cursor = self._collection.find({"time": {"$lte": until}}).sort([("time", 1), ("_id", 1)]).limit(limit)
        async for doc in cursor:
            yield self._codec.decode(doc).observation
