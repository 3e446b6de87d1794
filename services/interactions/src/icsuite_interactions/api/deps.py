"""What every route depends on: the wired service, the caller as a domain actor, and the record read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from icsuite_chassis.audit import note_audit
from icsuite_chassis.auth import AnyStaff, Principal, require_roles
from icsuite_contracts.base import Id

from ..domain.errors import InteractionNotFound
from ..domain.record import Record
from ..domain.rules import Actor
from ..service import InteractionsService


async def _service(request: Request) -> InteractionsService:
    return request.app.state.service  # type: ignore[no-any-return]


async def _actor(principal: AnyStaff) -> Actor:
    return Actor(principal.sub, supervisor=principal.has_any("supervisor"))


Service = Annotated[InteractionsService, Depends(_service)]
StaffActor = Annotated[Actor, Depends(_actor)]
StaffOrChannel = Annotated[Principal, Depends(require_roles("agent", "supervisor", "admin", "channel"))]


async def _existing(request: Request, interaction_id: Id, service: Service, _: AnyStaff) -> Record:
    record = await service.records.get(interaction_id)
    if record is None:
        raise InteractionNotFound(interaction_id)
    note_audit(request, account_id=record.account_id)
    return record


ExistingRecord = Annotated[Record, Depends(_existing)]
