"""Intake: check a callback request, route it by its reason profile, and settle who the caller is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icsuite_contracts.callbacks_v1 import CallbackClaimed, CallbackIdentified, CallbackQueued

from .errors import InvalidRequest
from .hours import next_opening
from .model import WorkItem
from .numbers import DEFAULT_REFUSED, check_callback_number
from .profiles import ReasonProfile

MAX_ATTRIBUTE_BYTES = 16_384
"""The request's attributes travel on the claimed and started events and onto the outbound record: capped."""


@dataclass(frozen=True)
class CallbackRequest:
    """A request as the web channel or the IVR made it (already of the right shape)."""

    request_id: str
    callback_number: str
    channel: str
    account_id: str | None = None
    reason_code: str | None = None
    preferred_from: datetime | None = None
    preferred_to: datetime | None = None
    time_zone: str = "UTC"
    language: str = "en"
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IntakePolicy:
    max_window_days: int = 30
    default_window_hours: float = 72.0
    identification_wait_s: float = 5.0
    refused_number_types: tuple[str, ...] = DEFAULT_REFUSED


def check_request(request: CallbackRequest, now: datetime, policy: IntakePolicy) -> None:
    """Raise :class:`InvalidRequest` naming the first rule the request breaks."""
    check_callback_number(request.callback_number, policy.refused_number_types)
    size = len(json.dumps(request.attributes, ensure_ascii=False).encode())
    if size > MAX_ATTRIBUTE_BYTES:
        raise InvalidRequest(f"attributes are {size} bytes; at most {MAX_ATTRIBUTE_BYTES} travel with a callback",
                             reason="attributes-too-large")
    try:
        ZoneInfo(request.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(f"time_zone {request.time_zone!r} is not an IANA time zone") from None
    start, end = request.preferred_from, request.preferred_to
    horizon = now + timedelta(days=policy.max_window_days)
    if start is not None and end is not None and start >= end:
        raise InvalidRequest("the preferred window must start before it ends (preferred_from < preferred_to)")
    if end is not None and end <= now:
        raise InvalidRequest("the preferred window lies in the past (preferred_to is not in the future)")
    if (end or start) is not None and max(t for t in (start, end) if t is not None) > horizon:
        raise InvalidRequest(f"the preferred window must lie within {policy.max_window_days} days from now")


def new_work_item(request: CallbackRequest, profile: ReasonProfile, now: datetime,
                  policy: IntakePolicy) -> WorkItem:
    """The work item of a checked request; it waits for identification when no account is given.

    It is workable from the start of its preferred window (an absolute time: the customer's time zone is in
    its offset) or, with business hours, from the first opening at or after it (the profile's time zone);
    a window that closes before that opening is refused (422 ``outside-business-hours``).
    """
    routing = profile.routing()
    visible_from = max(now, request.preferred_from) if request.preferred_from else now
    if routing.business_hours is not None:
        visible_from = next_opening(routing.business_hours, visible_from)
        if request.preferred_to is not None and visible_from >= request.preferred_to:
            raise InvalidRequest(
                f"the preferred window ends before the next opening of {profile.reason_code!r} "
                f"({visible_from.isoformat()}, business hours in {routing.business_hours.time_zone})",
                reason="outside-business-hours", next_opening=visible_from.isoformat())
    expires_at = request.preferred_to or visible_from + timedelta(hours=policy.default_window_hours)
    due_at = min(visible_from + timedelta(minutes=routing.sla_minutes), expires_at)
    pending = request.account_id is None
    return WorkItem(
        callback_id=request.request_id, request_id=request.request_id,
        callback_number=request.callback_number, channel=request.channel, time_zone=request.time_zone,
        language=request.language, routing=routing, status="scheduled",
        visible_from=visible_from, due_at=due_at, expires_at=expires_at, created_at=now, updated_at=now,
        account_id=request.account_id, identification="pending" if pending else "provided",
        identify_until=now + timedelta(seconds=policy.identification_wait_s) if pending else None,
        reason_code=request.reason_code, preferred_from=request.preferred_from,
        preferred_to=request.preferred_to, attributes=dict(request.attributes),
    )


@dataclass(frozen=True)
class CallerIdentity:
    """What identity found for the requester's number."""

    account_id: str | None
    candidates: tuple[str, ...] = ()
    looked_up_number: str | None = None


def identify(item: WorkItem, identity: CallerIdentity | None, now: datetime) -> WorkItem:
    """End the identification wait: with the account identity found, or unidentified (wait over)."""
    if not item.awaiting_identification:
        return item
    if identity is None or identity.account_id is None:
        return replace(item, identification="unidentified", identify_until=None,
                       candidates=identity.candidates if identity else (), updated_at=now)
    return replace(item, identification="identified", identify_until=None, account_id=identity.account_id,
                   account_number=identity.looked_up_number or item.callback_number,
                   candidates=identity.candidates, updated_at=now)


def decide_intake(request: CallbackRequest, profile: ReasonProfile, identity: CallerIdentity | None,
                  now: datetime, policy: IntakePolicy) -> tuple[WorkItem, list[CallbackQueued]]:
    """The new work item of a checked request: in the general inbox (or scheduled until its window opens), or
    waiting for identification when no account was given and identity has not answered yet."""
    item = new_work_item(request, profile, now, policy)
    if not item.awaiting_identification:
        return decide_enter_inbox(item, now)
    return decide_identified(item, identity, now) if identity is not None else (item, [])


def decide_enter_inbox(item: WorkItem, now: datetime) -> tuple[WorkItem, list[CallbackQueued]]:
    """After intake or identification: the general inbox, or scheduled until the window opens."""
    if item.status != "scheduled" or item.awaiting_identification:
        return item, []
    status = "queued" if item.visible_from <= now else "scheduled"
    entered = replace(item, status=status, updated_at=now)
    return entered, [queued_event(entered, now)]


def decide_identified(item: WorkItem, identity: CallerIdentity | None,
                      now: datetime) -> tuple[WorkItem, list[CallbackQueued | CallbackIdentified]]:
    """End the wait (identified, or unidentified when identity found none or the wait is over).

    An answer that comes after the wait ended (identity's event delayed past it, say by a consumer-group
    rebalance) still links a work item that is open and has no account yet, as one more event.
    """
    if item.awaiting_identification:
        return decide_enter_inbox(identify(item, identity, now), now)
    if (identity is None or identity.account_id is None or item.account_id is not None or not item.is_open
            or item.identification != "unidentified"):
        return item, []
    linked = replace(item, identification="identified", account_id=identity.account_id,
                     account_number=identity.looked_up_number or item.callback_number,
                     candidates=identity.candidates, updated_at=now)
    return linked, [CallbackIdentified(callback_id=item.callback_id, request_id=item.request_id,
                                       account_id=identity.account_id, at=now, candidates=list(identity.candidates))]


def decide_open_window(item: WorkItem, now: datetime) -> tuple[WorkItem, list[CallbackQueued]]:
    """A scheduled item whose window has opened enters the general inbox."""
    if item.status != "scheduled" or item.awaiting_identification or item.visible_from > now:
        return item, []
    opened = replace(item, status="queued", updated_at=now)
    return opened, [queued_event(opened, now)]


def queued_event(item: WorkItem, now: datetime) -> CallbackQueued:
    r = item.routing
    return CallbackQueued(
        callback_id=item.callback_id, request_id=item.request_id, account_id=item.account_id, at=now,
        callback_number=item.callback_number, reason_code=item.reason_code, profile=r.profile,
        priority=r.priority, due_at=item.due_at, queue=r.queue, task_type=r.task_type,
        scheduled_for=item.visible_from if item.status == "scheduled" else None,
    )


@dataclass(frozen=True)
class DueFollowup:
    """A call-type follow-up whose planned start arrived (``ic.followup.due.v1``)."""

    followup_id: str
    account_id: str | None
    owner_id: str | None
    type: str
    planned_start: datetime

    @property
    def callback_id(self) -> str:
        """One work item per follow-up and planned start, however often the event is delivered."""
        return f"fu-{self.followup_id}-{int(self.planned_start.timestamp())}"


def decide_followup_due(due: DueFollowup, account_numbers: tuple[str, ...], profile: ReasonProfile, now: datetime,
                        policy: IntakePolicy) -> tuple[WorkItem, list[CallbackQueued | CallbackClaimed]]:
    """The work item of a due follow-up: in its owner's inbox (the general inbox without owner), dialling the
    account's stored number, as ``channel: followup``."""
    if due.account_id is None or not account_numbers:
        raise InvalidRequest(f"follow-up {due.followup_id} has no account with a stored phone number to call",
                             reason="no-number-to-dial")
    request = CallbackRequest(request_id=due.callback_id, callback_number=account_numbers[0], channel="followup",
                              account_id=due.account_id, reason_code=profile.reason_code,
                              attributes={"followup_id": due.followup_id, "followup_type": due.type})
    item, events = decide_enter_inbox(new_work_item(request, profile, now, policy), now)
    item = replace(item, account_number=account_numbers[0])
    if due.owner_id is None:
        return item, list(events)
    owned = replace(item, status="claimed", owner=due.owner_id)
    claimed = CallbackClaimed(callback_id=item.callback_id, request_id=item.request_id, account_id=item.account_id,
                              at=now, agent_id=due.owner_id, attributes=dict(item.attributes))
    return owned, [*events, claimed]
