"""Topic ``ic.privacy.v1``: a data subject's rights across the suite, keyed by ``account_id``.

Erasure: identity (the owner of accounts) publishes ``erasure-requested`` when an administrator asks for an
account's erasure; each of the five services erases or anonymises what it holds for the account and confirms
with ``erased``, naming how many items of each kind it erased. Identity follows the confirmations per service.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import MAX_MAP_ENTRIES, Code, Count, Event, Id, Timestamp

TOPIC = "ic.privacy.v1"

ErasedCounts = Annotated[dict[Code, Count], Field(max_length=MAX_MAP_ENTRIES)]
"""What a service erased: the kind of data (``notes``, ``attachments``...) and how many items of it."""


class _PrivacyEvent(Event):
    topic = TOPIC
    key_field = "account_id"


class ErasureRequested(_PrivacyEvent):
    """An administrator asked that everything the suite holds about an account be erased."""

    ce_type = "ic.privacy.erasure-requested.v1"

    erasure_id: Id = Field(description="The erasure request.", examples=["er-5f1c2a"])
    account_id: Id = Field(description="The account to erase.", examples=["acc-100200"])
    requested_by: Id = Field(description="The administrator who asked.", examples=["admin-1"])
    requested_at: Timestamp = Field(description="When it was asked.", examples=["2026-12-07T06:00:00Z"])


class Erased(_PrivacyEvent):
    """One service erased or anonymised what it held for the account."""

    ce_type = "ic.privacy.erased.v1"

    erasure_id: Id = Field(description="The erasure request this confirms.", examples=["er-5f1c2a"])
    account_id: Id = Field(description="The erased account.", examples=["acc-100200"])
    service: Code = Field(description="The confirming service.", examples=["interactions"])
    erased: ErasedCounts = Field(
        default_factory=dict, description="Per kind of data, how many items were erased or anonymised.",
        examples=[{"notes": 3, "attachments": 1}],
    )
    erased_at: Timestamp = Field(description="When the service erased them.", examples=["2026-12-07T06:00:02Z"])


EVENT_TYPES = (ErasureRequested, Erased)
