"""The work item lifecycle: claim, start, fail (retain or release), release, complete, cancel, expire.

Every function takes the item as read, decides, and returns the changed item with the events of the
change. Nothing is written here; the repository writes the result guarded by the version that was read,
so a concurrent change makes the write miss instead of giving the item a second owner.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from icsuite_contracts import callbacks_v1 as ev
from icsuite_contracts.base import Event

from .model import EXPIRABLE_STATUSES, Actor, DialChoice, NotOwner, WorkItem, WrongState

Decision = tuple[WorkItem, list[Event]]


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


def _require_workable(item: WorkItem, now: datetime, action: str) -> None:
    if item.visible_from > now:
        raise WrongState(f"cannot {action} callback {item.callback_id} before {item.visible_from.isoformat()}")
    if item.expires_at <= now:
        raise WrongState(f"cannot {action} callback {item.callback_id}: its window has passed")


def claim(item: WorkItem, actor: Actor, now: datetime) -> Decision:
    if item.status == "claimed" and item.owner == actor.id:
        return item, []  # already in this agent's inbox: claiming again changes nothing
    _require(item, "queued", action="claim")
    _require_workable(item, now, "claim")
    claimed = replace(item, status="claimed", owner=actor.id, updated_at=now)
    return claimed, [ev.CallbackClaimed(**_ids(item, now), agent_id=actor.id)]


def claimed_event(item: WorkItem, agent_id: str, at: datetime) -> ev.CallbackClaimed:
    return ev.CallbackClaimed(**_ids(item, at), agent_id=agent_id)


def dial_number(item: WorkItem, dial: DialChoice) -> tuple[str, DialChoice]:
    """The number to dial and where it came from: the account's stored number falls back to the requested one."""
    if dial == "account" and item.account_number:
        return item.account_number, "account"
    return item.callback_number, "requested"


def start(item: WorkItem, actor: Actor, dial: DialChoice, now: datetime) -> Decision:
    check_actor(item, actor)
    _require(item, "claimed", action="start")
    _require_workable(item, now, "start")
    number, source = dial_number(item, dial)
    attempt = item.attempts + 1
    started = replace(item, status="in_progress", attempts=attempt, updated_at=now)
    return started, [ev.CallbackStarted(**_ids(item, now), agent_id=actor.id, dial_number=number,
                                        attempt=attempt, reason_code=item.reason_code, dial_source=source)]


def fail(item: WorkItem, actor: Actor, retain: bool, reason: str | None, now: datetime) -> Decision:
    """A failed attempt: kept in the agent's inbox or released, retried after the delay, or closed as failed.

    An attempt that failed before the call was started (a claimed item: the line was busy, the number
    unreachable) counts as an attempt too.
    """
    check_actor(item, actor)
    _require(item, "claimed", "in_progress", action="record a failed attempt of")
    if item.status == "claimed":
        item = replace(item, attempts=item.attempts + 1)
    final = item.attempts >= item.routing.max_attempts
    next_at = None if final else now + timedelta(seconds=item.routing.retry_delay_s)
    if final:
        changed = replace(item, status="failed", last_failure=reason, closed_by=actor.id, updated_at=now)
    elif retain:
        changed = replace(item, status="claimed", visible_from=next_at, last_failure=reason, updated_at=now)
    else:
        changed = replace(item, status="queued", owner=None, visible_from=next_at, last_failure=reason,
                          updated_at=now)
    events: list[Event] = [ev.CallbackAttemptFailed(
        **_ids(item, now), agent_id=actor.id, attempt=item.attempts, retain=retain and not final,
        reason=reason, next_attempt_at=next_at, final=final)]
    if changed.status == "queued":
        events.append(ev.CallbackReleased(**_ids(item, now), agent_id=actor.id))
    return changed, events


def release(item: WorkItem, actor: Actor, now: datetime) -> Decision:
    """Give a claimed item back to the general inbox (no attempt is counted)."""
    check_actor(item, actor)
    _require(item, "claimed", action="release")
    released = replace(item, status="queued", owner=None, updated_at=now)
    return released, [ev.CallbackReleased(**_ids(item, now), agent_id=actor.id)]


def complete(item: WorkItem, actor: Actor, outcome: str, now: datetime) -> Decision:
    check_actor(item, actor)
    _require(item, "in_progress", action="complete")
    done = replace(item, status="completed", outcome=outcome, closed_by=actor.id, updated_at=now)
    return done, [ev.CallbackCompleted(**_ids(item, now), agent_id=actor.id, outcome=outcome)]


def cancel(item: WorkItem, actor: Actor, reason: str | None, now: datetime) -> Decision:
    """Cancelled on request: by the channel, a supervisor, or the agent who owns it."""
    if not actor.channel:
        check_actor(item, actor)
        if not actor.supervisor and item.owner is None:
            raise NotOwner(f"callback {item.callback_id} is not in your inbox; claim it or ask a supervisor")
    _require(item, "scheduled", "queued", "claimed", "in_progress", action="cancel")
    cancelled = replace(item, status="cancelled", identification=_settled(item), identify_until=None,
                        closed_by=actor.id, close_reason=reason, updated_at=now)
    return cancelled, [ev.CallbackCancelled(**_ids(item, now), by=actor.id, reason=reason)]


def expire(item: WorkItem, now: datetime) -> Decision:
    """The window has passed before the callback was made (an attempt in progress is left alone)."""
    if item.status not in EXPIRABLE_STATUSES or item.expires_at > now:
        return item, []
    expired = replace(item, status="expired", identification=_settled(item), identify_until=None,
                      updated_at=now)
    return expired, [ev.CallbackExpired(**_ids(item, now))]


def _settled(item: WorkItem) -> Any:
    return "unidentified" if item.awaiting_identification else item.identification
