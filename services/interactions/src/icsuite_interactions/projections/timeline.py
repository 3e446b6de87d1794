"""The per-account timeline: a projection of ``ic.interactions.v1``, one entry per interaction.

The service consumes its own topic to build it, through the chassis's :class:`ProjectionWriter` (each
event applied once; a rebuild replays the topic into a shadow collection while the live consumer keeps
writing, then swaps it in). :func:`project` gives the same entry whatever the order of one entry's events,
as a rebuild needs: header fields are set by ``opened`` alone, counts only grow, agents are a set, the
account link with the higher ``link_sequence`` wins, and ``closed`` wins over everything (it carries the
final account).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.store.projection import ProjectionWriter
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.interactions_v1 import (
    ActivityRecorded,
    InteractionAccountLinked,
    InteractionClosed,
    InteractionOpened,
    MediaItemAdded,
    NoteAdded,
)
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

TIMELINE_EVENTS = (InteractionOpened, InteractionAccountLinked, ActivityRecorded, NoteAdded, InteractionClosed,
                   MediaItemAdded)
TIMELINE_TYPES = tuple(event.ce_type for event in TIMELINE_EVENTS)
FINAL_LINK = 2**62  # the closed event's account is final: no link event outranks it
NEWEST_FIRST = [("opened_at", DESCENDING), ("_id", DESCENDING)]


@dataclass(frozen=True)
class TimelineEntry:
    interaction_id: str
    status: str = "open"
    origin: str | None = None
    channel: str | None = None
    direction: str | None = None
    opened_at: datetime | None = None
    contact_id: str | None = None
    callback_id: str | None = None
    account_id: str | None = None
    business_agreement_id: str | None = None
    premise_id: str | None = None
    link_sequence: int = 0
    closed_at: datetime | None = None
    outcome: str | None = None
    result: str | None = None
    reason_code: str | None = None
    duration_s: float | None = None
    agent_ids: tuple[str, ...] = ()
    activity_count: int = 0
    note_count: int = 0
    media: tuple[str, ...] = ()  # the media of the record's media items (phone, fax, email...)


class EntryCodec:
    def encode(self, entry: TimelineEntry) -> dict[str, Any]:
        doc = {k: v for k, v in vars(entry).items() if v is not None}
        doc["agent_ids"] = list(entry.agent_ids)
        doc["media"] = list(entry.media)
        return doc

    def decode(self, doc: Mapping[str, Any]) -> TimelineEntry:
        fields = {k: v for k, v in doc.items() if k in _FIELDS}
        interaction_id = doc.get("interaction_id") or doc.get("_id") or ""
        return TimelineEntry(interaction_id=interaction_id, **{**fields, "agent_ids": tuple(doc.get("agent_ids") or ()),
                                                               "media": tuple(doc.get("media") or ())})


_FIELDS = frozenset(TimelineEntry.__dataclass_fields__) - {"interaction_id"}


def _media(entry: TimelineEntry, media: str) -> tuple[str, ...]:
    return tuple(sorted(set(entry.media) | {media}))


def _agents(entry: TimelineEntry, *agent_ids: str | None) -> tuple[str, ...]:
    return tuple(sorted(set(entry.agent_ids) | {a for a in agent_ids if a}))


def project(entry: TimelineEntry | None, envelope: Envelope) -> TimelineEntry | None:
    """The entry after one event (in any order of the entry's events); ``None`` for other events."""
    event = envelope.data
    if not isinstance(event, TIMELINE_EVENTS):
        return None
    current = replace(entry, interaction_id=event.interaction_id) if entry is not None else TimelineEntry(
        event.interaction_id)
    if isinstance(event, InteractionOpened):
        account = {} if current.account_id is not None else {"account_id": event.account_id}
        return replace(current, origin=event.origin, channel=event.channel, direction=event.direction,
                       opened_at=event.opened_at, contact_id=event.contact_id, callback_id=event.callback_id,
                       agent_ids=_agents(current, event.agent_id), media=_media(current, event.channel), **account)
    if isinstance(event, InteractionAccountLinked):
        sequence = event.link_sequence if event.link_sequence is not None else current.link_sequence + 1
        if sequence <= current.link_sequence:
            return current
        return replace(current, account_id=event.account_id, business_agreement_id=event.business_agreement_id,
                       premise_id=event.premise_id, link_sequence=sequence)
    if isinstance(event, ActivityRecorded):
        return replace(current, activity_count=current.activity_count + 1, agent_ids=_agents(current, event.agent_id))
    if isinstance(event, MediaItemAdded):
        return replace(current, media=_media(current, event.media))
    if isinstance(event, NoteAdded):
        return replace(current, note_count=current.note_count + 1, agent_ids=_agents(current, event.author))
    return _closed(current, event)


def _closed(entry: TimelineEntry, event: InteractionClosed) -> TimelineEntry:
    account = {"account_id": event.account_id, "business_agreement_id": event.business_agreement_id,
               "premise_id": event.premise_id, "link_sequence": FINAL_LINK} if event.account_id is not None else {}
    return replace(entry, status="closed", outcome=event.outcome, result=event.result,
                   reason_code=event.reason_code, duration_s=event.duration_s, closed_at=event.closed_at,
                   agent_ids=_agents(entry, event.agent_id, *event.agent_ids), **account)


def entry_key(envelope: Envelope) -> str | None:
    event = envelope.data
    return event.interaction_id if isinstance(event, TIMELINE_EVENTS) else None


def timeline_writer(db: AsyncDatabase[dict[str, Any]], collection: str) -> ProjectionWriter[TimelineEntry]:
    index = IndexSpec(collection, [("account_id", 1), ("opened_at", -1), ("_id", -1)])
    return ProjectionWriter(db, collection, EntryCodec(), project, entry_key, indexes=[index])


@dataclass(frozen=True)
class TimelineFilter:
    account_id: str
    channel: str | None = None
    agent_id: str | None = None
    outcome: str | None = None
    status: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None


class TimelineQueries:
    """Pages of one account's timeline, newest first."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], collection: str):
        self.collection = db[collection]
        self.codec = EntryCodec()

    async def page(self, where: TimelineFilter, after: tuple[datetime, str] | None,
                   limit: int) -> list[TimelineEntry]:
        clauses: list[dict[str, Any]] = [{"account_id": where.account_id}, {"opened_at": {"$ne": None}}]
        for name, value in (("channel", where.channel), ("agent_ids", where.agent_id),
                            ("outcome", where.outcome), ("status", where.status)):
            if value is not None:
                clauses.append({name: value})
        if where.opened_from is not None:
            clauses.append({"opened_at": {"$gte": where.opened_from}})
        if where.opened_to is not None:
            clauses.append({"opened_at": {"$lt": where.opened_to}})
        if after is not None:
            clauses.append({"$or": [{"opened_at": {"$lt": after[0]}},
                                    {"opened_at": after[0], "_id": {"$lt": after[1]}}]})
        cursor = self.collection.find({"$and": clauses}, {"_outbox": 0, "_applied": 0})
        return [self.codec.decode(doc) async for doc in cursor.sort(NEWEST_FIRST).limit(limit)]
