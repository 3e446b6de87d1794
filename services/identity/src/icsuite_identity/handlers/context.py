"""Commands on a contact's business object context."""

from __future__ import annotations

from dataclasses import dataclass

from icsuite_chassis.store import Stored

from ..domain.context import (
    AgreementView,
    Confirmation,
    ContactContext,
    Method,
    PremiseView,
    check_belongs_together,
    decide_confirm,
)
from ..domain.errors import UnknownReference
from ..repository.reads import Reads
from .service import IdentityService, commanded


@dataclass(frozen=True)
class ConfirmContext:
    contact_id: str
    account_id: str
    business_agreement_id: str | None
    premise_id: str | None
    method: Method
    agent_id: str


async def confirm_context(svc: IdentityService, cmd: ConfirmContext) -> Stored[ContactContext]:
    await check_references(svc.reads, cmd.account_id, cmd.business_agreement_id, cmd.premise_id)
    confirmation = Confirmation(cmd.account_id, cmd.business_agreement_id, cmd.premise_id, cmd.agent_id,
                                cmd.method, svc.clock())
    emit = commanded(cmd.contact_id, confirmation.confirmed_at)
    outcome = await svc.stores.contexts.change(cmd.contact_id, lambda current: decide_confirm(
        current, cmd.contact_id, confirmation, emit))
    assert outcome.stored is not None
    return outcome.stored


async def check_references(reads: Reads, account_id: str, agreement_id: str | None, premise_id: str | None) -> None:
    """Every named object exists, and they belong together."""
    if await reads.account(account_id) is None:
        raise UnknownReference("account_id", account_id)
    agreement = await reads.agreement(agreement_id) if agreement_id else None
    if agreement_id and agreement is None:
        raise UnknownReference("business_agreement_id", agreement_id)
    premise = await reads.premise(premise_id) if premise_id else None
    if premise_id and premise is None:
        raise UnknownReference("premise_id", premise_id)
    check_belongs_together(
        account_id, AgreementView(agreement.business_agreement_id, agreement.account_id) if agreement else None,
        PremiseView(premise.premise_id, premise.account_ids, premise.business_agreement_ids) if premise else None)
