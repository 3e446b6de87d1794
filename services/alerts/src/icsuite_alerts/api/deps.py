"""Annotated dependencies of the routes: the wired service and the roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from icsuite_chassis.auth import Principal, require_roles
from icsuite_chassis.errors import ForbiddenError

from ..handlers import AlertsService


async def _service(request: Request) -> AlertsService:
    return request.app.state.service  # type: ignore[no-any-return]


Service = Annotated[AlertsService, Depends(_service)]
SupervisorOrAdmin = Annotated[Principal, Depends(require_roles("supervisor", "admin"))]


def is_supervisor(principal: Principal) -> bool:
    return principal.has_any("supervisor", "admin")


def require_own(principal: Principal, agent_id: str | None) -> None:
    """Agents reach only their own alerts; supervisors and administrators any."""
    if not is_supervisor(principal) and agent_id != principal.sub:
        raise ForbiddenError("agents may only read their own alerts", agent_id=agent_id)
