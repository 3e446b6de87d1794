"""Topic ``ic.interactions.v1``: interaction records kept by the interactions service, keyed by ``interaction_id``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import (
    INT64_MAX,
    MAX_LIST_ITEMS,
    MAX_MAP_ENTRIES,
    Code,
    Direction,
    Event,
    Id,
    InteractionChannel,
    LanguageTag,
    NoteText,
    Text,
    Timestamp,
)
from .personal import PERSONAL

TOPIC = "ic.interactions.v1"

MAX_DURATION_S = 366 * 24 * 3600.0
"""The longest interaction a record can report: a year."""

Origin = Literal["contact", "callback", "manual"]


class _InteractionEvent(Event):
    topic = TOPIC
    key_field = "interaction_id"

    interaction_id: Id = Field(description="The interaction record.", examples=["int-81c2"])


class InteractionOpened(_InteractionEvent):
    """An interaction record was opened for a contact, a callback or a manual entry."""

    ce_type = "ic.interaction.opened.v1"

    contact_id: Id | None = Field(default=None, description="The contact it records, if any.", examples=["ct-7f3a9"])
    callback_id: Id | None = Field(default=None, description="The callback it records, if any.", examples=["cb-301"])
    origin: Origin = Field(description="What caused the record to be opened.", examples=["contact"])
    channel: InteractionChannel = Field(description="The channel of the interaction.", examples=["phone"])
    direction: Direction = Field(description="Who initiated the interaction.", examples=["inbound"])
    account_id: Id | None = Field(default=None, description="The account, if already known.", examples=["acc-100200"])
    agent_id: Id | None = Field(default=None, description="The agent handling it, if any.", examples=["a-17"])
    opened_at: Timestamp = Field(description="When the record was opened.", examples=["2025-03-01T09:15:41+01:00"])


class InteractionAccountLinked(_InteractionEvent):
    """The account (and business agreement and premise) of an open interaction became known or changed."""

    ce_type = "ic.interaction.account-linked.v1"

    contact_id: Id | None = Field(default=None, description="The contact it records, if any.", examples=["ct-7f3a9"])
    account_id: Id = Field(description="The linked account.", examples=["acc-100200"])
    business_agreement_id: Id | None = Field(
        default=None, description="The business agreement in context, if any.", examples=["ba-300400"]
    )
    premise_id: Id | None = Field(default=None, description="The premise in context, if any.", examples=["pr-500600"])
    identification: Literal["automatic", "confirmed"] | None = Field(
        default=None,
        description="How the account was linked: a unique automatic match, or confirmed by an agent or the customer.",
        examples=["automatic"],
    )
    link_sequence: int | None = Field(
        default=None, ge=1, le=INT64_MAX,
        description="Counts the record's account links: a reader keeps the link with the highest, in any order.",
        examples=[1],
    )


class ActivityRecorded(_InteractionEvent):
    """Something was done within an interaction (a search, a form opened, a payment arranged)."""

    ce_type = "ic.interaction.activity-recorded.v1"

    activity_id: Id = Field(description="The activity, unique within the interaction.", examples=["act-3"])
    kind: Code = Field(description="What kind of activity it was.", examples=["payment_arrangement"])
    at: Timestamp = Field(description="When it happened.", examples=["2025-03-01T09:18:02+01:00"])
    agent_id: Id | None = Field(default=None, description="The agent who did it, if any.", examples=["a-17"])
    account_id: Id | None = Field(default=None, description="The account concerned, if known.", examples=["acc-100200"])
    details: Annotated[dict[Code, Text], Field(max_length=MAX_MAP_ENTRIES), PERSONAL] = Field(
        default_factory=dict, description="Details of the activity as strings.", examples=[{"installments": "3"}]
    )


MediaKind = Literal["phone", "email", "fax", "chat", "web", "sms", "letter", "walk_in"]


class MediaItemAdded(_InteractionEvent):
    """Another medium joined the interaction (a fax sent, an e-mail received during the same contact)."""

    ce_type = "ic.interaction.media-item-added.v1"

    account_id: Id | None = Field(default=None, description="The account concerned, if known.", examples=["acc-100200"])
    media_item_id: Id = Field(description="The media item, unique within the interaction.", examples=["mi-2"])
    media: MediaKind = Field(description="The medium.", examples=["fax"])
    direction: Direction = Field(description="Who initiated it.", examples=["outbound"])
    started_at: Timestamp = Field(description="When it began.", examples=["2025-03-01T09:20:00+01:00"])
    ended_at: Timestamp | None = Field(default=None, description="When it ended, if it has.",
                                       examples=["2025-03-01T09:21:00+01:00"])


class NoteAdded(_InteractionEvent):
    """A note was added to an interaction."""

    ce_type = "ic.interaction.note-added.v1"

    account_id: Id | None = Field(default=None, description="The account concerned, if known.", examples=["acc-100200"])
    note_id: Id = Field(description="The note.", examples=["n-12"])
    type: Code = Field(description="The note type.", examples=["note"])
    language: LanguageTag = Field(description="The language of the text.", examples=["de"])
    text: Annotated[NoteText, PERSONAL] = Field(description="The note's text.", examples=["Customer asks for a payment plan."])
    author: Id = Field(description="Who wrote it.", examples=["a-17"])
    created_at: Timestamp = Field(description="When it was written.", examples=["2025-03-01T09:19:30+01:00"])


class InteractionClosed(_InteractionEvent):
    """An interaction was completed with its outcome; it is read-only from now on."""

    ce_type = "ic.interaction.closed.v1"

    contact_id: Id | None = Field(default=None, description="The contact it records, if any.", examples=["ct-7f3a9"])
    account_id: Id | None = Field(default=None, description="The account concerned, if known.", examples=["acc-100200"])
    business_agreement_id: Id | None = Field(
        default=None, description="The business agreement in context, if any.", examples=["ba-300400"]
    )
    premise_id: Id | None = Field(default=None, description="The premise in context, if any.", examples=["pr-500600"])
    outcome: Code = Field(description="How the interaction ended.", examples=["resolved"])
    result: Code | None = Field(default=None, description="The business result, if any.", examples=["payment_plan_agreed"])
    reason_code: Code | None = Field(default=None, description="Why the customer got in touch.", examples=["billing_question"])
    duration_s: float | None = Field(
        default=None,
        ge=0,
        le=MAX_DURATION_S,
        allow_inf_nan=False,
        description="How long the interaction lasted, in seconds.",
        examples=[389.5],
    )
    closed_at: Timestamp = Field(description="When it was closed.", examples=["2025-03-01T09:22:10+01:00"])
    agent_id: Id | None = Field(default=None, description="The agent who closed it, if any.", examples=["a-17"])
    agent_ids: Annotated[list[Id], Field(max_length=MAX_LIST_ITEMS)] = Field(
        default_factory=list,
        description="Every agent who handled the interaction (segments, activities, notes, closing).",
        examples=[["a-17", "a-23"]],
    )


EVENT_TYPES = (
    InteractionOpened,
    InteractionAccountLinked,
    ActivityRecorded,
    NoteAdded,
    InteractionClosed,
    MediaItemAdded,
)
