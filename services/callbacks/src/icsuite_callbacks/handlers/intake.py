"""Intake of callback requests (gateway and IVR topic) and of identity's caller-identified."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import Envelope, derive_event_id

from ..domain import (
    DEFAULT_PROFILE,
    CallbackRequest,
    CallerIdentity,
    TooManyOpenRequests,
    WorkItem,
    check_request,
    choose_profile,
    new_work_item,
)
from ..domain.intake import enter_inbox, settle_identification
from .support import Deps, ItemNotFound, envelope, outgoing, transition

SLOT_GRACE = timedelta(seconds=60)
"""A slot whose item does not exist after this long was left by a crash between the two writes."""


async def submit_request(deps: Deps, request: CallbackRequest, cause: Envelope | None = None) -> WorkItem:
    """Create the work item of a request once; a request seen before answers the item it made.

    ``cause`` is the ``ic.callback.requested.v1`` event of the topic path. A gateway request without an
    account is published on that topic too (the web site's own requests are), so that identity can
    look the caller up; the consumer of the topic then finds the item and does nothing.
    """
    existing = await deps.items.get(request.request_id)
    if existing is not None:
        return existing
    now = deps.clock()
    check_request(request, now, deps.policy)
    item, events = await _routed_item(deps, request, now)
    await _take_slot(deps, item, now)
    out = outgoing(item, events, cause)
    if cause is None and request.account_id is None:
        out.insert(0, envelope(_requested_event(request), id=derive_event_id(request.request_id, "requested"),
                               request_id=request.request_id, cause=None))
    item = replace(item, version=item.version + 1)  # the insert is the item's first write: version 1
    if not await deps.items.add(item, out):
        return await deps.items.get(request.request_id) or item
    deps.kick(item.callback_id)
    await deps.items.sync_claimable(None, item)
    if item.awaiting_identification:  # identity may have answered between our read and our insert
        identity = await deps.identifications.get(request.request_id)
        if identity is not None:
            return await transition(deps, item.callback_id,
                                    lambda read: settle_identification(read, identity, deps.clock()))
    return item


async def _routed_item(deps: Deps, request: CallbackRequest, now: datetime) -> tuple[WorkItem, list]:
    own = await deps.profiles.get(request.reason_code) if request.reason_code else None
    default = await deps.profiles.get(DEFAULT_PROFILE)
    item = new_work_item(request, choose_profile(request.reason_code, own, default), now, deps.policy)
    if not item.awaiting_identification:
        return enter_inbox(item, now)
    identity = await deps.identifications.get(request.request_id)
    return settle_identification(item, identity, now) if identity else (item, [])


async def _take_slot(deps: Deps, item: WorkItem, now: datetime) -> None:
    limit = deps.max_open_per_number
    if await deps.numbers.take(item.callback_number, item.callback_id, limit, now):
        return
    stale = []
    for holder in await deps.numbers.holders(item.callback_number):
        held = await deps.items.get(holder.callback_id)
        if (held is None and holder.since < now - SLOT_GRACE) or (held is not None and not held.is_open):
            stale.append(holder.callback_id)
    if stale:
        await deps.numbers.give_back(item.callback_number, *stale)
        if await deps.numbers.take(item.callback_number, item.callback_id, limit, now):
            return
    raise TooManyOpenRequests(f"this callback number already has {limit} open callback requests; "
                              "a new one is accepted when one of them is completed, cancelled or expired")


async def caller_identified(deps: Deps, request_id: str, identity: CallerIdentity, cause: Envelope) -> None:
    """Record what identity found; end the item's wait if the request is here already (else intake will)."""
    await deps.identifications.record(request_id, identity, cause.id, deps.clock())
    try:
        await transition(deps, request_id, lambda read: settle_identification(read, identity, deps.clock()),
                         cause=cause)
    except ItemNotFound:
        pass


def _requested_event(request: CallbackRequest) -> CallbackRequested:
    return CallbackRequested(
        request_id=request.request_id, callback_number=request.callback_number, account_id=request.account_id,
        reason_code=request.reason_code, preferred_from=request.preferred_from,
        preferred_to=request.preferred_to, time_zone=request.time_zone, language=request.language,
        channel=request.channel, attributes=request.attributes)  # type: ignore[arg-type]
