"""The work item lifecycle: claim, start, fail (retain or release), release, complete, cancel, expire.

Each ``decide_*`` takes the item as stored, a command and the time, and answers the changed item with the
events of the change (no events: nothing to do). Nothing is written here; the store writes the result
guarded by the version it read, so a concurrent change is decided again instead of giving a second owner.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from icsuite_contracts import callbacks_v1 as ev
from icsuite_contracts.base import Event

from .errors import InvalidRequest, NotOwner, WrongState
from .hours import next_opening
from .model import EXPIRABLE_STATUSES, Actor, DialChoice, WorkItem, holds, window_open, workable
from .routing import check_can_serve, servable_by

Decision = tuple[WorkItem, list[Event]]


@dataclass(frozen=True)
class Claim:
    actor: Actor


@dataclass(frozen=True)
class Start:
    actor: Actor
    dial: DialChoice = "requested"
    number: str | None = None                 # which of the account's numbers (dial: account)
    account_numbers: tuple[str, ...] = ()     # the account's own numbers, from the replicated master data


@dataclass(frozen=True)
class Fail:
    actor: Actor
    retain: bool
    reason: str | None = None


@dataclass(frozen=True)
class Release:
    actor: Actor


@dataclass(frozen=True)
class Complete:
    actor: Actor
    outcome: str


@dataclass(frozen=True)
class Cancel:
    actor: Actor
    reason: str | None = None


def _ids(item: WorkItem, now: datetime) -> dict[str, Any]:
    return {"callback_id": item.callback_id, "request_id": item.request_id, "account_id": item.account_id,
            "at": now}


def check_actor(item: WorkItem, actor: Actor) -> None:
    """Only the owner acts on an owned item; a supervisor acts on any."""
    if actor.supervisor or item.owner is None or item.owner == actor.id:
        return
    raise NotOwner(f"callback {item.callback_id} belongs to another agent's inbox")


def _require(item: WorkItem, *statuses: str, action: str) -> None:
    if item.status not in statuses:
        raise WrongState(f"cannot {action} callback {item.callback_id}: it is {item.status}, "
                         f"not {' or '.join(statuses)}")


def _require_window_open(item: WorkItem, now: datetime, action: str) -> None:
    if holds(item, window_open(now)):
        return
    if item.visible_from > now:
        raise WrongState(f"cannot {action} callback {item.callback_id} before {item.visible_from.isoformat()}")
    raise WrongState(f"cannot {action} callback {item.callback_id}: its window has passed")


def decide_claim(item: WorkItem, cmd: Claim, now: datetime) -> Decision:
    """Into the actor's inbox: only a workable item (queued, window open) the actor can serve (skill and
    language, :mod:`.routing`); claiming one's own again is a no-op."""
    if item.status == "claimed" and item.owner == cmd.actor.id:
        return item, []
    if not holds(item, workable(now)):
        _require(item, "queued", action="claim")
        _require_window_open(item, now, "claim")
    check_can_serve(cmd.actor, item)
    claimed = replace(item, status="claimed", owner=cmd.actor.id, updated_at=now)
    return claimed, [ev.CallbackClaimed(**_ids(item, now), agent_id=cmd.actor.id, attributes=item.attributes or None)]


def claimable_by(actor: Actor, now: datetime) -> dict[str, Any]:
    """What claim-next offers ``actor`` and the general inbox shows them: workable and servable by them."""
    servable = servable_by(actor)
    return {"$and": [workable(now), servable]} if servable else workable(now)


def decide_claim_next(item: WorkItem, cmd: Claim, now: datetime) -> Decision | None:
    """A candidate of claim-next: the claim of :func:`decide_claim`, or None (skip it, leaving it to others)
    when it is not workable or the actor cannot serve it."""
    return decide_claim(item, cmd, now) if holds(item, claimable_by(cmd.actor, now)) else None


def dial_number(item: WorkItem, cmd: Start) -> tuple[str, DialChoice]:
    """The number to dial and where it came from.

    ``account``: one of the account's own numbers (``cmd.number`` picks which, else the first); without any
    known, the number identity looked up, else the requested one. ``requested``: the number the customer gave.
    """
    if cmd.dial == "requested":
        if cmd.number is not None and cmd.number != item.callback_number:
            raise InvalidRequest("number applies to dial: account; dial: requested dials the callback_number")
        return item.callback_number, "requested"
    if cmd.number is not None:
        if cmd.number not in cmd.account_numbers:
            raise InvalidRequest(f"{cmd.number} is not one of the account's stored numbers",
                                 account_numbers=list(cmd.account_numbers))
        return cmd.number, "account"
    if cmd.account_numbers:
        return cmd.account_numbers[0], "account"
    if item.account_number:
        return item.account_number, "account"
    return item.callback_number, "requested"


def decide_start(item: WorkItem, cmd: Start, now: datetime) -> Decision:
    check_actor(item, cmd.actor)
    _require(item, "claimed", action="start")
    _require_window_open(item, now, "start")
    number, source = dial_number(item, cmd)
    attempt = item.attempts + 1
    started = replace(item, status="in_progress", attempts=attempt, dial_number=number, dial_source=source,
                      updated_at=now)
    return started, [ev.CallbackStarted(**_ids(item, now), agent_id=cmd.actor.id, dial_number=number,
                                        attempt=attempt, reason_code=item.reason_code, dial_source=source,
                                        attributes=item.attributes or None)]


def decide_fail(item: WorkItem, cmd: Fail, now: datetime) -> Decision:
    """A failed attempt: kept in the agent's inbox or released, retried after the delay, or closed as failed.

    An attempt that failed before the call was started (a claimed item: the line was busy, the number
    unreachable) counts as an attempt too.
    """
    check_actor(item, cmd.actor)
    _require(item, "claimed", "in_progress", action="record a failed attempt of")
    if item.status == "claimed":
        item = replace(item, attempts=item.attempts + 1)
    final = item.attempts >= item.routing.max_attempts
    next_at = None if final else _retry_at(item, now)
    if final:
        changed = replace(item, status="failed", last_failure=cmd.reason, closed_by=cmd.actor.id, updated_at=now)
    elif cmd.retain:
        changed = replace(item, status="claimed", visible_from=next_at, last_failure=cmd.reason, updated_at=now)
    else:
        changed = replace(item, status="queued", owner=None, visible_from=next_at, last_failure=cmd.reason,
                          updated_at=now)
    events: list[Event] = [ev.CallbackAttemptFailed(
        **_ids(item, now), agent_id=cmd.actor.id, attempt=item.attempts, retain=cmd.retain and not final,
        reason=cmd.reason, next_attempt_at=next_at, final=final)]
    if changed.status == "queued":
        events.append(ev.CallbackReleased(**_ids(item, now), agent_id=cmd.actor.id))
    return changed, events


def _retry_at(item: WorkItem, now: datetime) -> datetime:
    """The next attempt: after the profile's retry delay, at the next opening of its business hours."""
    after_delay = now + timedelta(seconds=item.routing.retry_delay_s)
    hours = item.routing.business_hours
    return next_opening(hours, after_delay) if hours is not None else after_delay


def decide_release(item: WorkItem, cmd: Release, now: datetime) -> Decision:
    """Give a claimed item back to the general inbox (no attempt is counted)."""
    check_actor(item, cmd.actor)
    _require(item, "claimed", action="release")
    released = replace(item, status="queued", owner=None, updated_at=now)
    return released, [ev.CallbackReleased(**_ids(item, now), agent_id=cmd.actor.id)]


def decide_complete(item: WorkItem, cmd: Complete, now: datetime) -> Decision:
    check_actor(item, cmd.actor)
    _require(item, "in_progress", action="complete")
    done = replace(item, status="completed", outcome=cmd.outcome, closed_by=cmd.actor.id, updated_at=now)
    return done, [ev.CallbackCompleted(**_ids(item, now), agent_id=cmd.actor.id, outcome=cmd.outcome)]


def decide_cancel(item: WorkItem, cmd: Cancel, now: datetime) -> Decision:
    """Cancelled on request: by the channel before an agent claimed it, by a supervisor, or by its owner."""
    if cmd.actor.channel and not cmd.actor.supervisor:
        if item.status in ("claimed", "in_progress"):
            raise WrongState(f"callback {item.callback_id} is being worked by an agent; only the agent or a "
                             "supervisor can cancel it now")
    else:
        check_actor(item, cmd.actor)
        if not cmd.actor.supervisor and item.owner is None:
            raise NotOwner(f"callback {item.callback_id} is not in your inbox; claim it or ask a supervisor")
    _require(item, "scheduled", "queued", "claimed", "in_progress", action="cancel")
    cancelled = replace(item, status="cancelled", identification=_settled(item), identify_until=None,
                        closed_by=cmd.actor.id, close_reason=cmd.reason, updated_at=now)
    return cancelled, [ev.CallbackCancelled(**_ids(item, now), by=cmd.actor.id, reason=cmd.reason)]


def decide_expire(item: WorkItem, now: datetime) -> Decision:
    """The window has passed before the callback was made (an attempt in progress is left alone)."""
    if item.status not in EXPIRABLE_STATUSES or item.expires_at > now:
        return item, []
    expired = replace(item, status="expired", identification=_settled(item), identify_until=None,
                      updated_at=now)
    return expired, [ev.CallbackExpired(**_ids(item, now))]


def _settled(item: WorkItem) -> Any:
    return "unidentified" if item.awaiting_identification else item.identification
