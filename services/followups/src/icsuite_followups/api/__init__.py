"""The HTTP gateway of the followups service: one module per resource, thin routes (parse, call, answer)."""

from fastapi import APIRouter

from . import customizing, followups, lists, notes, reports

router = APIRouter(prefix="/v1")
for _module in (customizing, followups, notes, lists, reports):
    router.include_router(_module.router)
