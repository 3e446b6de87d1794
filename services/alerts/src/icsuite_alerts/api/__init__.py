"""HTTP gateway of the alerts service: one module per resource, the dependencies in :mod:`.deps`."""

from fastapi import APIRouter

from . import alerts, facts, rules, stream

router = APIRouter(prefix="/v1")
for _module in (rules, alerts, stream, facts):
    router.include_router(_module.router)

__all__ = ["router"]
