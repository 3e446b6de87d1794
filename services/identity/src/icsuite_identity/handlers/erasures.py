"""Erasure: an administrator's request, the services' confirmations, and identity's own part of it."""

from __future__ import annotations

import uuid
from typing import Any

from icsuite_chassis.erasure import run_erasure
from icsuite_chassis.store import Item
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.privacy_v1 import Erased, ErasureRequested

from ..domain.erasures import (
    Erasure,
    decide_claim,
    decide_confirmation,
    decide_request,
    erased_account,
    erased_caller,
    erased_context,
    forgot_retired_keys,
)
from ..domain.errors import AccountNotFound
from ..domain.lookups import lookup_pages
from ..projections.masterdata import index
from .service import IdentityService, commanded

SERVICE = "identity"


def new_erasure_id() -> str:
    return f"er-{uuid.uuid4().hex[:20]}"


async def request_erasure(svc: IdentityService, account_id: str, requested_by: str) -> Erasure:
    """The account's open erasure, or a new one whose request event goes out through the outbox."""
    if await svc.stores.accounts.get(account_id) is None:
        raise AccountNotFound(account_id)
    claim = await svc.stores.erasure_claims.get(account_id)
    if claim is not None:
        existing = await svc.stores.erasure_requests.get(claim.state.erasure_id)
        if existing is not None and existing.state.completed_at is None:
            return existing.state
    finished = claim.state.erasure_id if claim is not None else None
    candidate = new_erasure_id()
    await svc.stores.erasure_claims.change(account_id, lambda current: decide_claim(current, account_id, candidate,
                                                                                    finished))
    claimed = await svc.stores.erasure_claims.get(account_id)
    assert claimed is not None
    erasure_id, now = claimed.state.erasure_id, svc.clock()
    erasure = Erasure(erasure_id, account_id, requested_by, now)
    event = commanded(account_id, now)(ErasureRequested(erasure_id=erasure_id, account_id=account_id,
                                                        requested_by=requested_by, requested_at=now))
    outcome = await svc.stores.erasure_requests.change(erasure_id, lambda current: decide_request(current, erasure,
                                                                                                  event))
    assert outcome.stored is not None
    return outcome.stored.state


async def erasure(svc: IdentityService, erasure_id: str) -> Erasure | None:
    stored = await svc.stores.erasure_requests.get(erasure_id)
    return stored.state if stored is not None else None


async def on_erased(svc: IdentityService, event: Erased, envelope: Envelope) -> None:
    """Record one service's confirmation; a redelivered or repeated one changes nothing."""
    await svc.stores.erasure_requests.change(event.erasure_id, lambda current: decide_confirmation(current, event),
                                             event_id=envelope.id)


async def on_erasure_requested(svc: IdentityService, event: ErasureRequested, envelope: Envelope) -> None:
    await run_erasure(svc.stores.erasure_runs, event, envelope, service=SERVICE, clock=svc.clock,
                      survey=lambda account_id: survey(svc, account_id),
                      erase=lambda account_id: erase(svc, account_id))


def _context_filter(account_id: str) -> dict[str, Any]:
    return {"$or": [{"automatic.account_id": account_id}, {"confirmed.account_id": account_id}]}


def _caller_filter(account_id: str) -> dict[str, Any]:
    return {"$or": [{"account_id": account_id}, {"candidates": account_id}]}


async def survey(svc: IdentityService, account_id: str) -> dict[str, int]:
    stores = svc.stores
    account = await stores.accounts.get(account_id)
    contexts = await stores.contexts.find(_context_filter(account_id))
    callers = await stores.caller_lookups.find(_caller_filter(account_id))
    return {"accounts": int(erased_account(account) is not None),
            "lookup_keys": len(account.state.keys()) if account is not None else 0,
            "contact_addresses": sum(erased_context(c) is not None for c in contexts),
            "callback_numbers": sum(erased_caller(c) is not None for c in callers)}


async def erase(svc: IdentityService, account_id: str) -> None:
    """Anonymise the account (unlisting its lookup keys), its contacts' addresses and its callers' numbers."""
    stores = svc.stores
    outcome = await stores.accounts.change(account_id, erased_account)
    if outcome.stored is not None:
        await index(stores.lookups, [outcome.stored])
        retired = [page for key in outcome.stored.state.retired_keys  # a key names a number or an address:
                   for page in lookup_pages(key)]                       # gone when unused (each page of it)
        await stores.lookups.purge({"_id": {"$in": retired}, "ids": {"$size": 0}}, limit=len(retired) or 1)
        await stores.accounts.change(account_id, forgot_retired_keys)
    contexts = await stores.contexts.find(_context_filter(account_id))
    await stores.contexts.change_many([Item(c.id, erased_context) for c in contexts])
    callers = await stores.caller_lookups.find(_caller_filter(account_id))
    await stores.caller_lookups.change_many([Item(c.id, erased_caller) for c in callers])
