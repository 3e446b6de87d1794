"""The gateway's request and response bodies (the JSON names reuse the event field names)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from icsuite_contracts.base import MAX_MAP_ENTRIES, Code, Id, LanguageTag, Text, Timestamp
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from .domain import CallbackRequest, ReasonProfile, WorkItem
from .domain.hours import BusinessHours

PhoneField = Annotated[str, Field(min_length=1, max_length=32, examples=["+4930123456"])]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CallbackRequestBody(_Body):
    """The fields of ``ic.callback.requested.v1`` without ``request_id`` (the service assigns it)."""

    callback_number: PhoneField = Field(description="The number to call back, in E.164.")
    account_id: Id | None = Field(default=None, description="The account, if the customer is known.")
    reason_code: Code | None = Field(default=None, description="Why the customer wants a callback.",
                                     examples=["billing_question"])
    preferred_from: Timestamp | None = Field(default=None, description="Start of the preferred window.")
    preferred_to: Timestamp | None = Field(default=None, description="End of the preferred window.")
    time_zone: Code = Field(default="UTC", description="The customer's IANA time zone.", examples=["Europe/Berlin"])
    language: LanguageTag = Field(default="en", description="The customer's language (BCP 47).")
    channel: Literal["web", "ivr", "agent"] = Field(default="web", description="Where the request was made.")
    attributes: Annotated[dict[Code, Text], Field(max_length=MAX_MAP_ENTRIES)] = Field(
        default_factory=dict, description="Strings passed through unchanged to the work item.")

    def to_request(self, request_id: str) -> CallbackRequest:
        return CallbackRequest(request_id=request_id, **self.model_dump())


class CallbackAccepted(BaseModel):
    """What a channel sees of a request: its ids and status, nothing of the work item."""

    request_id: str
    callback_id: str
    status: str

    @classmethod
    def of(cls, item: WorkItem) -> "CallbackAccepted":
        return cls(request_id=item.request_id, callback_id=item.callback_id, status=item.status)


class StartBody(_Body):
    dial: Literal["requested", "account"] = Field(
        default="requested", description="Dial the number the customer gave, or one of the account's stored numbers.")
    number: PhoneField | None = Field(
        default=None, description="With dial: account, which of the account's stored numbers to dial.")


class FailBody(_Body):
    retain: StrictBool = Field(description="Keep it in your own inbox (true) or release it to the general inbox.")
    reason: Text | None = Field(default=None, description="Why the attempt failed.", examples=["no_answer"])


class CompleteBody(_Body):
    outcome: Code = Field(description="How the callback ended.", examples=["reached"])


class CancelBody(_Body):
    reason: Text | None = Field(default=None, description="Why it is cancelled.", examples=["customer_called_in"])


Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", examples=["08:00"])]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class BusinessHoursBody(_Body):
    """When the callbacks of a profile may be made, in ``time_zone``; a day not named is closed."""

    time_zone: Code = Field(description="The IANA time zone of the hours.", examples=["Europe/Berlin"])
    days: Annotated[dict[Day, Annotated[list[tuple[Clock, Clock]], Field(max_length=8)]], Field(max_length=7)] = \
        Field(description="Per day, intervals [start, end) as HH:MM (24:00 ends at midnight).",
              examples=[{"mon": [["08:00", "12:00"], ["13:00", "18:00"]], "sat": [["09:00", "13:00"]]}])

    def to_hours(self) -> BusinessHours:
        return BusinessHours.of(self.time_zone, {day: [list(span) for span in spans] for day, spans in self.days.items()})

    @classmethod
    def of(cls, hours: BusinessHours | None) -> "BusinessHoursBody | None":
        return cls.model_validate(hours.to_doc()) if hours is not None else None


class ReasonProfileBody(_Body):
    task_type: Code = Field(default="callback", description="The task the work item becomes.")
    priority: int = Field(default=1, ge=0, le=1000, strict=True, description="Higher is more urgent.")
    sla_minutes: int = Field(default=480, ge=1, le=43_200, strict=True, description="Minutes until due.")
    queue: Code = Field(default="general", description="The target queue.")
    skill: Code | None = Field(default=None, description="The skill an agent needs (token claim skills), if any.")
    language: LanguageTag | None = Field(
        default=None, description="The language an agent must speak (token claim languages; the primary "
                                  "language is compared: de-AT speaks de), if any.", examples=["de"])
    max_attempts: int = Field(default=3, ge=1, le=50, strict=True, description="Attempts before it fails.")
    retry_delay_seconds: float = Field(default=900.0, ge=0, le=7 * 86_400,
                                       description="The earliest next attempt after a failed one.")
    description: Text | None = None
    business_hours: BusinessHoursBody | None = Field(
        default=None, description="Requests outside these hours stay scheduled until the next opening.")

    def to_profile(self, reason_code: str) -> ReasonProfile:
        return ReasonProfile(reason_code=reason_code, task_type=self.task_type, priority=self.priority,
                             sla_minutes=self.sla_minutes, queue=self.queue, skill=self.skill,
                             max_attempts=self.max_attempts, retry_delay_s=self.retry_delay_seconds,
                             description=self.description, language=self.language,
                             business_hours=self.business_hours.to_hours() if self.business_hours else None)


class ReasonProfileView(ReasonProfileBody):
    reason_code: str
    is_default: bool

    @classmethod
    def of(cls, profile: ReasonProfile, default_code: str) -> "ReasonProfileView":
        return cls(reason_code=profile.reason_code, is_default=profile.reason_code == default_code,
                   task_type=profile.task_type, priority=profile.priority, sla_minutes=profile.sla_minutes,
                   queue=profile.queue, skill=profile.skill, language=profile.language,
                   max_attempts=profile.max_attempts, retry_delay_seconds=profile.retry_delay_s,
                   description=profile.description, business_hours=BusinessHoursBody.of(profile.business_hours))


class DialView(BaseModel):
    number: str
    source: Literal["requested", "account"]
    note: str | None = None


class CallbackView(BaseModel):
    callback_id: str
    request_id: str
    status: str
    callback_number: str
    account_id: str | None
    identification: str
    candidates: list[str]
    reason_code: str | None
    profile: str
    task_type: str
    priority: int
    queue: str
    skill: str | None
    agent_language: str | None = Field(description="The primary language the agent must speak (the profile's).")
    max_attempts: int
    retry_delay_seconds: float
    attempts: int
    agent_id: str | None = Field(description="The owner: the agent whose inbox holds it.")
    preferred_from: datetime | None
    preferred_to: datetime | None
    time_zone: str
    language: str
    channel: str
    attributes: dict[str, str]
    visible_from: datetime = Field(description="When it can be worked: the window's start or the next attempt.")
    due_at: datetime
    expires_at: datetime
    last_failure: str | None
    outcome: str | None
    created_at: datetime
    updated_at: datetime
    number_to_dial: str | None = Field(default=None, description="The number of the attempt in progress.")
    dial: DialView | None = None

    @classmethod
    def of(cls, item: WorkItem) -> "CallbackView":
        r = item.routing
        return cls(
            callback_id=item.callback_id, request_id=item.request_id, status=item.status,
            callback_number=item.callback_number, account_id=item.account_id,
            identification=item.identification, candidates=list(item.candidates), reason_code=item.reason_code,
            profile=r.profile, task_type=r.task_type, priority=r.priority, queue=r.queue, skill=r.skill,
            agent_language=r.agent_language, max_attempts=r.max_attempts, retry_delay_seconds=r.retry_delay_s, attempts=item.attempts,
            agent_id=item.owner, preferred_from=item.preferred_from, preferred_to=item.preferred_to,
            time_zone=item.time_zone, language=item.language, channel=item.channel,
            attributes=dict(item.attributes), visible_from=item.visible_from, due_at=item.due_at,
            expires_at=item.expires_at, last_failure=item.last_failure, outcome=item.outcome,
            created_at=item.created_at, updated_at=item.updated_at,
            number_to_dial=item.dial_number if item.status == "in_progress" else None)

    @classmethod
    def started(cls, item: WorkItem, asked: Literal["requested", "account"]) -> "CallbackView":
        number, source = item.dial_number or item.callback_number, item.dial_source or "requested"
        note = None
        if asked == "account" and source == "requested":
            note = "the account's stored number is not known; dialling the requested number instead"
        return cls.of(item).model_copy(update={"dial": DialView(number=number, source=source, note=note)})


class CallbackPage(BaseModel):
    items: list[CallbackView]
    next_cursor: str | None = None


class QueueCount(BaseModel):
    status: str = Field(description="An open status: scheduled, queued, claimed or in_progress.")
    queue: str
    count: int


class CallbackReportView(BaseModel):
    as_of: datetime = Field(description="When it was counted.")
    counts: list[QueueCount] = Field(description="Open callbacks by status and queue.")
    breached: int = Field(description="Open callbacks whose due time has passed.")
    due_soon: int = Field(description="Open callbacks due within due_soon_minutes, not yet breached.")
    due_soon_minutes: int
    oldest_waiting: CallbackView | None = Field(description="The longest waiting item of the general inbox.")


class AgentCallbacksView(BaseModel):
    agent_id: str
    claimed: int = Field(description="Callbacks claimed or retained in the agent's inbox.")
    in_progress: int = Field(description="Callbacks the agent is dialling or talking on.")


class AgentCallbacksPage(BaseModel):
    items: list[AgentCallbacksView]
    next_cursor: str | None = None
