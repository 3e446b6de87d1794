"""Topic ``ic.callbacks.v1``: the lifecycle of callback work items, keyed by ``callback_id``.

Every event carries the ``request_id`` it came from, the ``account_id`` if known and ``at``, when it happened.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import E164, INT64_MAX, MAX_MAP_ENTRIES, Code, Count, Event, Id, PhoneText, Text, Timestamp
from .personal import PERSONAL

TOPIC = "ic.callbacks.v1"

AgentId = Annotated[Id, Field(description="The agent.", examples=["a-17"])]
RequestAttributes = Annotated[
    dict[Code, Text] | None,
    Field(default=None, max_length=MAX_MAP_ENTRIES,
          description="The request's attributes (the objects the channel passed along), for the agent's "
                      "clipboard and the outbound interaction record.",
          examples=[{"campaign": "spring-2025"}]),
    PERSONAL,
]


class _CallbackEvent(Event):
    topic = TOPIC
    key_field = "callback_id"

    callback_id: Id = Field(description="The callback work item.", examples=["cb-301"])
    request_id: Id = Field(description="The request it was created from.", examples=["cbr-5521"])
    account_id: Id | None = Field(default=None, description="The account, if known.", examples=["acc-100200"])
    at: Timestamp = Field(description="When it happened.", examples=["2025-03-02T10:05:00+01:00"])


class CallbackQueued(_CallbackEvent):
    """A callback work item was created from a request and put in the general inbox (or scheduled)."""

    ce_type = "ic.callback.queued.v1"

    callback_number: Annotated[E164, PERSONAL] = Field(description="The number to call back.", examples=["+4930123456"])
    reason_code: Code | None = Field(default=None, description="The request's reason.", examples=["billing_question"])
    profile: Code = Field(
        description="The reason profile applied (task, priority, SLA); the default profile when none matched.",
        examples=["billing_question"],
    )
    priority: Count = Field(description="Urgency from the profile; higher is more urgent.", examples=[5])
    due_at: Timestamp = Field(description="When the call should have been made (SLA).", examples=["2025-03-02T12:00:00+01:00"])
    queue: Code | None = Field(default=None, description="The inbox or queue it was put in.", examples=["general"])
    task_type: Code | None = Field(
        default=None, description="The task type the reason profile gives.", examples=["billing_callback"]
    )
    scheduled_for: Timestamp | None = Field(
        default=None,
        description="When it becomes workable, if the customer's window has not opened yet.",
        examples=["2025-03-02T10:00:00+01:00"],
    )


class CallbackClaimed(_CallbackEvent):
    """An agent took a callback into their own inbox."""

    ce_type = "ic.callback.claimed.v1"

    agent_id: AgentId
    attributes: RequestAttributes = None


class CallbackStarted(_CallbackEvent):
    """An agent began an attempt: an outbound contact to the customer begins."""

    ce_type = "ic.callback.started.v1"

    agent_id: AgentId
    dial_number: Annotated[PhoneText, PERSONAL] = Field(description="The number being dialled.", examples=["+4930123456"])
    attempt: int = Field(ge=1, le=INT64_MAX, description="The attempt number, starting at 1.", examples=[1])
    reason_code: Code | None = Field(default=None, description="The callback's reason.", examples=["billing_question"])
    dial_source: Literal["requested", "account"] | None = Field(
        default=None,
        description=(
            "Where dial_number came from: the number the customer asked to be called on, or the account's "
            "stored number (requested when the agent chose the account's number but none is known)."
        ),
        examples=["requested"],
    )
    attributes: RequestAttributes = None


class CallbackAttemptFailed(_CallbackEvent):
    """An attempt did not reach the customer."""

    ce_type = "ic.callback.attempt-failed.v1"

    agent_id: AgentId
    attempt: int = Field(ge=1, le=INT64_MAX, description="The attempt that failed.", examples=[1])
    retain: bool = Field(
        description="Whether the agent keeps it in their inbox (else it goes back to the general inbox).",
        examples=[True],
    )
    reason: Text | None = Field(default=None, description="Why the attempt failed.", examples=["no_answer"])
    next_attempt_at: Timestamp | None = Field(
        default=None, description="When the next attempt is due, if any.", examples=["2025-03-02T11:00:00+01:00"]
    )
    final: bool = Field(description="Whether this was the last permitted attempt (status failed).", examples=[False])


class CallbackReleased(_CallbackEvent):
    """A claimed callback went back to the general inbox."""

    ce_type = "ic.callback.released.v1"

    agent_id: Id | None = Field(
        default=None, description="The agent who released it; null when released by the system.", examples=["a-17"]
    )


class CallbackIdentified(_CallbackEvent):
    """The caller was identified after the identification wait ended: the open work item (and its outbound
    interaction record) now belongs to ``account_id``."""

    ce_type = "ic.callback.identified.v1"

    candidates: Annotated[list[Id], Field(max_length=100)] = Field(
        default_factory=list, description="Accounts that matched, best first.", examples=[["acc-100200"]])


class CallbackCompleted(_CallbackEvent):
    """A callback was completed."""

    ce_type = "ic.callback.completed.v1"

    agent_id: AgentId
    outcome: Code = Field(description="How it ended.", examples=["reached"])


class CallbackExpired(_CallbackEvent):
    """A callback was not made in time and expired."""

    ce_type = "ic.callback.expired.v1"


class CallbackCancelled(_CallbackEvent):
    """A callback was cancelled."""

    ce_type = "ic.callback.cancelled.v1"

    by: Id | None = Field(default=None, description="Who cancelled it.", examples=["a-17"])
    reason: Text | None = Field(default=None, description="Why it was cancelled.", examples=["customer_called_in"])


EVENT_TYPES = (
    CallbackQueued,
    CallbackClaimed,
    CallbackStarted,
    CallbackAttemptFailed,
    CallbackReleased,
    CallbackIdentified,
    CallbackCompleted,
    CallbackExpired,
    CallbackCancelled,
)
