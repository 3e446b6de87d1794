"""What the routes depend on: the wired service, and size-limited path and query parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from ..handlers import IdentityService


async def _service(request: Request) -> IdentityService:
    """``async``: FastAPI runs a plain ``def`` dependency in its thread pool, a hop to a worker thread and
    back on every request for one attribute."""
    return request.app.state.service  # type: ignore[no-any-return]


Service = Annotated[IdentityService, Depends(_service)]
IdPath = Annotated[str, Path(min_length=1, max_length=128)]
Text = Annotated[str | None, Query(min_length=1, max_length=256)]
Postcode = Annotated[str | None, Query(min_length=1, max_length=16)]
