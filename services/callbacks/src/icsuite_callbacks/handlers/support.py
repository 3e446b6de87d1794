"""What every handler shares: its dependencies, event envelopes, and the guarded transition of one item."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from icsuite_contracts.base import Event
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope

from ..domain import CallbackError, IntakePolicy, WorkItem
from ..domain.lifecycle import Decision, claimed_event
from ..repository import Identifications, OpenRequestsByNumber, ReasonProfiles, WorkItems

SOURCE = "/callbacks"
WRITE_ATTEMPTS = 5


class ItemNotFound(CallbackError):
    """No callback with this id."""


class ConcurrentChange(CallbackError):
    """The item kept changing under us; the caller may try again."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def random_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Deps:
    """The adapters and policies the handlers use; ``bootstrap`` builds it, tests may build their own."""

    items: WorkItems
    profiles: ReasonProfiles
    identifications: Identifications
    numbers: OpenRequestsByNumber
    kick: Callable[[str], None]
    policy: IntakePolicy = field(default_factory=IntakePolicy)
    max_open_per_number: int = 3
    pending_claim_repair_s: float = 5.0
    clock: Callable[[], datetime] = utc_now
    new_id: Callable[[], str] = random_id


def envelope(event: Event, *, id: str, request_id: str, cause: Envelope | None) -> Envelope:
    return new_envelope(event, source=SOURCE, id=id, subject=event.key(),
                        correlation_id=cause.correlation_id if cause and cause.correlation_id else request_id,
                        causation_id=cause.id if cause else None)


def outgoing(read: WorkItem, events: list[Event], cause: Envelope | None) -> list[Envelope]:
    """The envelopes of a transition of ``read``: ids derived from the item's version, so a retry repeats them.

    A claim that claim-next left pending is emitted first, so that its event precedes what follows it.
    """
    out: list[Envelope] = []
    if read.pending_claim is not None:
        pending = read.pending_claim
        out.append(envelope(claimed_event(read, pending.agent_id, pending.at), id=pending.event_id,
                            request_id=read.request_id, cause=None))
    for index, event in enumerate(events):
        event_id = derive_event_id(read.callback_id, f"v{read.version}:{index}:{event.ce_type}")
        out.append(envelope(event, id=event_id, request_id=read.request_id, cause=cause))
    return out


async def transition(deps: Deps, callback_id: str, decide: Callable[[WorkItem], Decision],
                     cause: Envelope | None = None) -> WorkItem:
    """Read the item, let the domain decide, write the result guarded by what was read; retry on a race."""
    for _ in range(WRITE_ATTEMPTS):
        read = await deps.items.get(callback_id)
        if read is None:
            raise ItemNotFound(f"no callback {callback_id}")
        changed, events = decide(read)
        if not events:
            return read
        changed = replace(changed, pending_claim=None)
        if await deps.items.save(read, changed, outgoing(read, events, cause)):
            stored = replace(changed, version=read.version + 1)
            deps.kick(callback_id)
            await deps.items.sync_claimable(read, stored)
            if read.is_open and not changed.is_open:
                await deps.numbers.give_back(read.callback_number, callback_id)
            return stored
    raise ConcurrentChange(f"callback {callback_id} is being changed by someone else; try again")


async def emit_pending_claim(deps: Deps, item: WorkItem) -> None:
    """A claim recorded as pending by an earlier claim-next (which wrote its event in a second step): move it
    to the outbox (once; guarded by its event id). Claim-next no longer leaves any; stored ones still count."""
    pending = item.pending_claim
    if pending is None:
        return
    out = envelope(claimed_event(item, pending.agent_id, pending.at), id=pending.event_id,
                   request_id=item.request_id, cause=None)
    if await deps.items.emit_pending_claim(item, out):
        deps.kick(item.callback_id)
