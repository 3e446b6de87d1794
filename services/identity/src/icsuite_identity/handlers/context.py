"""Commands on a contact's business object context."""

from __future__ import annotations

from dataclasses import dataclass

from icsuite_chassis.store import Stored

from ..domain.context import (
    Actor,
    AgreementView,
    Confirmation,
    ContactContext,
    Method,
    PremiseView,
    check_belongs_together,
    check_may_set,
    decide_confirm,
)
from ..domain.errors import UnknownReference
from ..domain.masterdata import Premise, owning_account
from ..repository.reads import Reads, get_many
from .service import IdentityService, commanded


@dataclass(frozen=True)
class ConfirmContext:
    """Confirm an account, or a business agreement or premise (the account then derived from it)."""

    contact_id: str
    account_id: str | None
    business_agreement_id: str | None
    premise_id: str | None
    method: Method
    actor: Actor


async def confirm_context(svc: IdentityService, cmd: ConfirmContext) -> Stored[ContactContext]:
    stored = await svc.stores.contexts.get(cmd.contact_id)
    check_may_set(stored.state if stored is not None else None, cmd.contact_id, cmd.actor)
    account_id = await check_references(svc.reads, cmd.account_id, cmd.business_agreement_id, cmd.premise_id)
    confirmation = Confirmation(account_id, cmd.business_agreement_id, cmd.premise_id, cmd.actor.agent_id,
                                cmd.method, svc.clock())
    emit = commanded(cmd.contact_id, confirmation.confirmed_at)
    outcome = await svc.stores.contexts.change(cmd.contact_id, lambda current: decide_confirm(
        current, cmd.contact_id, confirmation, cmd.actor, emit))
    assert outcome.stored is not None
    return outcome.stored


async def surviving_accounts(reads: Reads, context: ContactContext) -> dict[str, str]:
    """Of the accounts the context names (its account and candidates), those merged into another account now,
    each with that account: the context answers them as it (an unmerge restores them, nothing is written)."""
    named = [a for a in (context.account_id, *(context.automatic.candidates if context.automatic else ())) if a]
    merged = await reads.merged_into(sorted(set(named))) if named else {}
    return {source: target.account_id for source, target in merged.items() if target is not None}


async def check_references(reads: Reads, account_id: str | None, agreement_id: str | None,
                           premise_id: str | None) -> str:
    """Every named object exists and they belong together; the account, derived when not named."""
    agreement = await reads.agreement(agreement_id) if agreement_id else None
    if agreement_id and agreement is None:
        raise UnknownReference("business_agreement_id", agreement_id)
    premise = await reads.premise(premise_id) if premise_id else None
    if premise_id and premise is None:
        raise UnknownReference("premise_id", premise_id)
    owners = await _owners_of_agreements(reads, premise)
    if account_id is None:
        account_id = owning_account(premise, agreement, owners)
    if await reads.account(account_id) is None:
        raise UnknownReference("account_id", account_id)
    check_belongs_together(
        account_id, AgreementView(agreement.business_agreement_id, agreement.account_id) if agreement else None,
        PremiseView(premise.premise_id, premise.account_ids, premise.business_agreement_ids, owners) if premise
        else None)
    return account_id


async def _owners_of_agreements(reads: Reads, premise: Premise | None) -> tuple[str, ...]:
    if premise is None or premise.account_ids:
        return ()
    agreements = await get_many(reads.stores.agreements, premise.business_agreement_ids)
    return tuple(a.account_id for a in agreements.values())
