"""The business object context of a contact."""

from __future__ import annotations

from fastapi import APIRouter, Request
from icsuite_chassis.audit import audited, note_audit
from icsuite_chassis.auth import AnyStaff
from icsuite_chassis.problems import NotFound

from .. import handlers
from ..domain.context import Actor
from ..schemas import ConfirmContextRequest, ContextOut, context_out
from .deps import IdPath, Service

router = APIRouter(prefix="/v1", tags=["contacts"], dependencies=[audited()])


@router.get("/contacts/{contact_id}/context", response_model=ContextOut,
            summary="The business object context of a contact")
async def get_context(request: Request, contact_id: IdPath, _: AnyStaff, svc: Service) -> ContextOut:
    stored = await svc.stores.contexts.get(contact_id)
    if stored is None:
        raise NotFound(f"no business object context for contact {contact_id}")
    note_audit(request, account_id=stored.state.account_id)
    return context_out(stored.state, await handlers.surviving_accounts(svc.reads, stored.state))


@router.put("/contacts/{contact_id}/context", response_model=ContextOut,
            summary="Confirm account, business agreement and premise for a contact",
            responses={403: {"description": "the caller is neither an agent of the contact nor a supervisor"},
                       404: {"description": "no channel reported the contact"},
                       422: {"description": "unknown ids, or objects that do not belong together"}})
async def confirm_context(request: Request, contact_id: IdPath, body: ConfirmContextRequest, principal: AnyStaff,
                          svc: Service) -> ContextOut:
    actor = Actor(principal.sub, supervisor=principal.has_any("supervisor", "admin"))
    command = handlers.ConfirmContext(contact_id, body.account_id, body.business_agreement_id, body.premise_id,
                                      body.method, actor)
    stored = await handlers.confirm_context(svc, command)
    note_audit(request, account_id=stored.state.account_id)
    return context_out(stored.state, await handlers.surviving_accounts(svc.reads, stored.state))
