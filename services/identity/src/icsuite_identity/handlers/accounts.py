"""Creating an account during a contact: refused as a probable duplicate unless the agent insists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from icsuite_chassis.store import AggregateStore
from icsuite_contracts.identity_v1 import AccountCreated

from ..domain.accounts import (
    AccountRecord,
    CreationClaim,
    ExistingAccount,
    decide_claim,
    decide_create,
    decide_release,
    duplicate_keys,
    find_duplicates,
    new_account,
)
from ..domain.context import Actor, check_may_set
from ..domain.errors import DuplicateAccount
from ..projections.masterdata import index
from ..repository.reads import Reads
from .context import ConfirmContext, confirm_context
from .service import IdentityService, commanded

ABANDONED_AFTER = timedelta(seconds=30)
"""A claim this old whose account does not exist was left by a creation that died before storing it."""


@dataclass(frozen=True)
class CreateAccount:
    kind: str
    name: str
    phones: list[str]
    emails: list[str]
    address: dict[str, str] | None
    actor: Actor
    allow_duplicate: bool = False
    """Create it although it is probably a duplicate (the agent checked the candidates)."""
    contact_id: str | None = None
    """Link the new account to this contact's context as confirmed."""


async def create_account(svc: IdentityService, cmd: CreateAccount) -> AccountRecord:
    now = svc.clock()
    record = new_account(account_id=svc.new_account_id(), kind=cmd.kind, name=cmd.name, phones=cmd.phones,
                         emails=cmd.emails, address=cmd.address, default_region=svc.default_region,
                         created_by=cmd.actor.agent_id, created_at=now)
    if cmd.contact_id is not None:
        stored_context = await svc.stores.contexts.get(cmd.contact_id)
        check_may_set(stored_context.state if stored_context else None, cmd.contact_id, cmd.actor)
    if cmd.allow_duplicate:
        await _store_account(svc, record, cmd, now)
    else:
        await refuse_duplicates(svc.reads, record)
        async with claimed(svc.stores.creation_claims, svc.reads, record, now):
            await _store_account(svc, record, cmd, now)
    stored = await svc.stores.accounts.get(record.account_id)
    await index(svc.stores.lookups, [stored] if stored is not None else [])
    if cmd.contact_id is not None:
        await confirm_context(svc, ConfirmContext(cmd.contact_id, record.account_id, None, None, "agent_search",
                                                  cmd.actor))
    return record


async def _store_account(svc: IdentityService, record: AccountRecord, cmd: CreateAccount, now: datetime) -> None:
    event = AccountCreated(account_id=record.account_id, kind=cmd.kind, name=record.name,  # type: ignore[arg-type]
                           phones=list(record.phones_e164), emails=list(record.emails),
                           address=cmd.address, created_by=cmd.actor.agent_id)  # type: ignore[arg-type]
    published = commanded(record.account_id, now)(event)
    await svc.stores.accounts.change(record.account_id, lambda current: decide_create(current, record, [published]))


async def refuse_duplicates(reads: Reads, record: AccountRecord) -> None:
    """Raise :class:`DuplicateAccount` naming every existing account that is probably the same customer."""
    found: dict[str, AccountRecord] = {}
    for e164 in record.phones_e164:
        found.update((a.account_id, a) for a in await reads.by_phone(e164))
    for email in record.emails:
        found.update((a.account_id, a) for a in await reads.by_email(email))
    existing = [ExistingAccount(a.account_id, a.name, a.phones_e164, a.emails) for a in found.values()]
    duplicates, reason = find_duplicates(record, existing)
    if duplicates:
        raise DuplicateAccount(duplicates, reason or "same customer")


@asynccontextmanager
async def claimed(claims: AggregateStore[CreationClaim], reads: Reads, record: AccountRecord,
                  now: datetime) -> AsyncIterator[None]:
    """Hold every duplicate key of ``record`` while it is created, so that of two creations of the same
    customer at the same moment only one succeeds; on failure the keys are given back."""
    taken: list[str] = []
    try:
        for key in duplicate_keys(record):
            abandoned_by = await _abandoned_holder(claims, reads, key, now)
            await claims.change(key, lambda current, key=key, gone=abandoned_by: decide_claim(
                current, key, record.account_id, now, gone))
            taken.append(key)
        yield
    except BaseException:
        for key in taken:
            await claims.change(key, lambda current: decide_release(current, record.account_id))
        raise


async def _abandoned_holder(claims: AggregateStore[CreationClaim], reads: Reads, key: str,
                            now: datetime) -> str | None:
    stored = await claims.get(key)
    holder = stored.state.account_id if stored is not None else None
    if holder is None or stored is None or stored.state.at >= now - ABANDONED_AFTER:
        return None
    return holder if await reads.account(holder) is None else None
