"""Topic ``ic.callback-requests.v1``: callback requests from the web site and the IVR, keyed by ``request_id``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import E164, MAX_MAP_ENTRIES, Code, Event, Id, LanguageTag, Text, Timestamp
from .personal import PERSONAL

TOPIC = "ic.callback-requests.v1"

RequestChannel = Literal["web", "ivr", "agent"]
Attributes = Annotated[dict[Code, Text], Field(max_length=MAX_MAP_ENTRIES), PERSONAL]


class CallbackRequested(Event):
    """A customer asked to be called back.

    Only the shape is checked here; business rules (the window's order, how far ahead it may lie)
    belong to the callbacks service.
    """

    ce_type = "ic.callback.requested.v1"
    topic = TOPIC
    key_field = "request_id"

    request_id: Id = Field(description="The request, assigned by the receiving channel.", examples=["cbr-5521"])
    callback_number: Annotated[E164, PERSONAL] = Field(description="The number to call back, in E.164.", examples=["+4930123456"])
    account_id: Id | None = Field(
        default=None, description="The account, if the customer is known.", examples=["acc-100200"]
    )
    reason_code: Code | None = Field(
        default=None, description="Why the customer wants a callback.", examples=["billing_question"]
    )
    preferred_from: Timestamp | None = Field(
        default=None,
        description="Start of the window in which the customer wants to be called.",
        examples=["2025-03-02T10:00:00+01:00"],
    )
    preferred_to: Timestamp | None = Field(
        default=None,
        description="End of the window in which the customer wants to be called.",
        examples=["2025-03-02T12:00:00+01:00"],
    )
    time_zone: Code = Field(
        default="UTC", description="The customer's IANA time zone.", examples=["Europe/Berlin"]
    )
    language: LanguageTag = Field(
        default="en", description="The language the customer wants to be served in.", examples=["de"]
    )
    channel: RequestChannel = Field(description="Where the request was made.", examples=["web"])
    attributes: Attributes = Field(
        default_factory=dict,
        description="Strings passed through unchanged to the callback work item.",
        examples=[{"campaign": "spring-2025"}],
    )


EVENT_TYPES = (CallbackRequested,)
