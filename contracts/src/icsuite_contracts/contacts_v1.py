"""Topic ``ic.contacts.v1``: contacts reported by the CTI and web channels, keyed by ``contact_id``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Code, ContactChannel, Direction, Event, Id, ShortText, Text, Timestamp

TOPIC = "ic.contacts.v1"

SegmentKind = Literal["ivr", "queue", "agent", "hold", "consult", "transfer", "wrap_up"]


class _ContactEvent(Event):
    topic = TOPIC
    key_field = "contact_id"

    contact_id: Id = Field(description="The contact, as the channel identifies it.", examples=["ct-7f3a9"])


class ContactStarted(_ContactEvent):
    """A customer contact began on a channel (a call rang in, a chat opened, an e-mail arrived)."""

    ce_type = "ic.contact.started.v1"

    channel: ContactChannel = Field(description="The channel of the contact.", examples=["phone"])
    direction: Direction = Field(description="Who initiated the contact.", examples=["inbound"])
    from_address: ShortText = Field(
        description="The caller number, sender e-mail address or chat handle.",
        examples=["+4930123456"],
    )
    to_address: ShortText | None = Field(
        default=None,
        description="The number, address or entry point the contact was addressed to.",
        examples=["+498001234567"],
    )
    queue: Code | None = Field(
        default=None, description="The queue the contact entered, if any.", examples=["billing"]
    )
    started_at: Timestamp = Field(
        description="When the contact began.", examples=["2025-03-01T09:15:00+01:00"]
    )
    account_hint: Id | None = Field(
        default=None,
        description="An account id the channel already knows (e.g. entered in the IVR).",
        examples=["acc-100200"],
    )


class ContactSegmentRecorded(_ContactEvent):
    """A lifecycle segment of a contact (IVR, queue, agent, hold...) began or was completed."""

    ce_type = "ic.contact.segment.v1"

    segment_id: Id = Field(description="The segment, unique within the contact.", examples=["seg-2"])
    kind: SegmentKind = Field(description="What happened during the segment.", examples=["agent"])
    agent_id: Id | None = Field(
        default=None, description="The agent handling the segment, if any.", examples=["a-17"]
    )
    queue: Code | None = Field(
        default=None, description="The queue of the segment, if any.", examples=["billing"]
    )
    started_at: Timestamp = Field(
        description="When the segment began.", examples=["2025-03-01T09:15:40+01:00"]
    )
    ended_at: Timestamp | None = Field(
        default=None,
        description="When the segment ended; null while it is still running.",
        examples=["2025-03-01T09:21:05+01:00"],
    )


class ContactEnded(_ContactEvent):
    """A contact ended (the call was hung up, the chat closed)."""

    ce_type = "ic.contact.ended.v1"

    ended_at: Timestamp = Field(
        description="When the contact ended.", examples=["2025-03-01T09:22:10+01:00"]
    )
    reason: Text | None = Field(
        default=None, description="Why the contact ended, if the channel says.", examples=["caller_hangup"]
    )


EVENT_TYPES = (ContactStarted, ContactSegmentRecorded, ContactEnded)
