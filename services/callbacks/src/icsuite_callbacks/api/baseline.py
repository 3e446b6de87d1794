"""The benchmark's baseline claim route (issue 22), mounted only when ``bench_claim_baseline`` is set.

``POST /bench/claim-baseline`` goes through the same gateway stack as ``POST /v1/callbacks/claim-next``
(middleware, token, role check, the audit entry of a route touching personal data, the same answer model)
but claims with one ``find_one_and_update`` (see
``handlers.baseline``). Not part of the public contract and not in the OpenAPI document.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from icsuite_chassis.audit import audited
from icsuite_chassis.clock import utc_now

from ..handlers.baseline import claim_baseline
from ..schemas import CallbackView
from .deps import Worker, actor_of

router = APIRouter(include_in_schema=False, dependencies=[audited()])  # audited as claim-next is


@router.post("/bench/claim-baseline", response_model=CallbackView)
async def claim_baseline_route(principal: Worker, request: Request) -> CallbackView | Response:
    item = await claim_baseline(request.app.state.claim_baseline_collection, actor_of(principal), utc_now())
    return CallbackView.of(item) if item is not None else Response(status_code=204)
