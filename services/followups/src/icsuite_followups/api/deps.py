"""The routes' dependencies as ``Annotated`` aliases: the wired service and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from icsuite_chassis.auth import AnyStaff, Principal
from icsuite_chassis.problems import Unprocessable

from ..handlers import Service


async def _service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


async def _staff(principal: AnyStaff) -> Principal:
    if len(principal.sub) > 128:
        raise Unprocessable("the token's sub is longer than 128 characters", slug="invalid-subject")
    return principal


ServiceDep = Annotated[Service, Depends(_service)]
Staff = Annotated[Principal, Depends(_staff)]
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-ID", max_length=128)]
