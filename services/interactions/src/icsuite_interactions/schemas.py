"""Request bodies of the gateway (the names are fixed by the suite's contract) and cursor helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from icsuite_chassis.pagination import InvalidCursor, decode_cursor, encode_cursor
from icsuite_contracts.base import (MAX_MAP_ENTRIES, Code, Direction, Id, InteractionChannel, LanguageTag, NoteText, Text,
                                   Timestamp)
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_BULK = 100
NonEmptyNote = Annotated[NoteText, StringConstraints(min_length=1)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoteIn(_Body):
    type: Code = Field(examples=["note"])
    language: LanguageTag = Field(examples=["de"])
    text: NonEmptyNote = Field(examples=["Customer asks for a payment plan."])


class ActivityIn(_Body):
    kind: Code = Field(description="The kind of business act.", examples=["order_placed"])
    details: Annotated[dict[Code, Text], Field(max_length=MAX_MAP_ENTRIES)] = Field(
        default_factory=dict, examples=[{"order_id": "ord-77"}])
    at: Timestamp | None = Field(default=None, description="When it happened; now if absent.")
    media_item_id: Id | None = Field(default=None, description="The media item it belongs to, if any.")


MediaKind = Literal["phone", "email", "fax", "chat", "web", "sms", "letter", "walk_in"]


class MediaItemIn(_Body):
    media: MediaKind = Field(examples=["fax"])
    direction: Direction = Field(examples=["outbound"])
    started_at: Timestamp | None = Field(default=None, description="When it began; now if absent.")
    ended_at: Timestamp | None = Field(default=None, description="When it ended, if it has.")


class ScratchPadIn(_Body):
    text: NoteText = Field(examples=["Customer moves on 1 April; asks for the final bill."])


class CompleteIn(_Body):
    outcome: Code = Field(examples=["resolved"])
    result: Code | None = Field(default=None, examples=["payment_plan_agreed"])
    reason_code: Code | None = Field(default=None, examples=["billing_question"])


class BulkCompleteIn(CompleteIn):
    account_id: Id = Field(examples=["acc-100200"])
    interaction_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_BULK)]


class ManualInteractionIn(_Body):
    channel: InteractionChannel = Field(description="walk_in or letter, typically.", examples=["walk_in"])
    direction: Direction = "inbound"
    account_id: Id | None = None
    business_agreement_id: Id | None = None
    premise_id: Id | None = None
    opened_at: Timestamp | None = Field(default=None, description="When the contact took place; now if absent.")
    agent_id: Id | None = Field(default=None, description="The handling agent; a staff caller is the agent itself.")


def page_cursor(moment: datetime | None, last_id: str) -> str | None:
    """The cursor of the page after the item at ``moment`` with id ``last_id``."""
    if moment is None:
        return None
    return encode_cursor({"t": moment.isoformat(), "id": last_id})


def read_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    position = decode_cursor(cursor, required_keys=("t", "id"))
    if position is None:
        return None
    try:
        moment = datetime.fromisoformat(position["t"]) if isinstance(position["t"], str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not isinstance(position["id"], str):
        raise InvalidCursor()
    return moment, position["id"]


class GroupCount(BaseModel):
    code: str | None = Field(description="The outcome (reason code); null for the records closed without one.")
    count: int


class DayReportOut(BaseModel):
    day: str = Field(description="The calendar day (YYYY-MM-DD) in time_zone.")
    time_zone: str
    start: datetime
    end: datetime
    opened: int = Field(description="Records created on the day.")
    closed: int = Field(description="Records closed on the day.")
    open_now: int = Field(description="Records open now, whenever they were opened.")
    by_outcome: list[GroupCount] = Field(description="The day's closed records by outcome, most first.")
    by_reason: list[GroupCount] = Field(description="The day's closed records by reason code, most first.")
    groups_left_off: int = Field(description="Outcomes and reasons beyond the first 200 of each, not named.")


class AgentOpenRecords(BaseModel):
    agent_id: str
    open_interactions: int


class AgentOpenRecordsPage(BaseModel):
    items: list[AgentOpenRecords]
    next_cursor: str | None = None
