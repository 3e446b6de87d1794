"""The benchmark's baseline claim (issue 22): only mounted when the setting is on, behind the same role check as
claim-next, and exactly once under concurrent claims, in the inbox order.

Own profiles with very high priorities keep this module's items ahead of requests other test modules put on the
shared request topic.
"""

from __future__ import annotations

import asyncio

import pytest
from starlette.routing import NoMatchFound

from icsuite_callbacks.bootstrap import build_app

from .conftest import settings_for

pytestmark = [pytest.mark.integration]
SETTINGS = {"bench_claim_baseline": True}


def test_the_route_exists_only_when_the_bench_setting_is_on(stack) -> None:
    with pytest.raises(NoMatchFound):
        build_app(settings_for(stack, "baseline_off")).url_path_for("claim_baseline_route")
    app = build_app(settings_for(stack, "baseline_on", bench_claim_baseline=True))
    assert app.url_path_for("claim_baseline_route") == "/bench/claim-baseline"
    assert not any(path.startswith("/bench") for path in app.openapi()["paths"])  # never in the public contract


async def test_baseline_claims_each_item_once_in_inbox_order_and_checks_the_role(kit) -> None:
    response = await kit.client.put("/v1/reason-profiles/baseline_top", json={"priority": 990, "sla_minutes": 600},
                                    headers=kit.admin)
    assert response.status_code in (200, 201), response.text
    ids = [await kit.request(reason_code="baseline_top") for _ in range(6)]
    for callback_id in ids:
        await _wait_queued(kit, callback_id)

    refused = await kit.client.post("/bench/claim-baseline", headers=kit.channel)
    assert refused.status_code == 403, refused.text

    first = await kit.client.post("/bench/claim-baseline", headers=kit.agent("b-0"))
    assert first.status_code == 200, first.text
    assert first.json()["callback_id"] == ids[0]  # same priority, then due time: the oldest first
    assert first.json()["status"] == "claimed" and first.json()["agent_id"] == "b-0"

    answers = await asyncio.gather(*(kit.client.post("/bench/claim-baseline", headers=kit.agent(f"b-{n}"))
                                     for n in range(1, 11)))
    got = [(a.json()["callback_id"], a.json()["agent_id"]) for a in answers if a.status_code == 200]
    claimed = [first.json()["callback_id"], *(c for c, _ in got)]
    assert len(claimed) == len(set(claimed))  # no item to two agents
    assert set(ids) <= set(claimed)
    for callback_id, agent in got:
        if callback_id in ids:
            stored = await kit.get(callback_id)
            assert stored["status"] == "claimed" and stored["agent_id"] == agent


async def _wait_queued(kit, callback_id: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while (await kit.get(callback_id))["status"] != "queued":
        assert asyncio.get_running_loop().time() < deadline, f"{callback_id} never became queued"
        await asyncio.sleep(0.1)


async def test_baseline_selects_with_the_routing_rule_as_claim_next_does(kit) -> None:
    response = await kit.client.put("/v1/reason-profiles/baseline_skilled",
                                    json={"priority": 995, "sla_minutes": 600, "skill": "bench_skill"},
                                    headers=kit.admin)
    assert response.status_code in (200, 201), response.text
    callback_id = await kit.request(reason_code="baseline_skilled")
    await _wait_queued(kit, callback_id)
    unskilled = await kit.client.post("/bench/claim-baseline", headers=kit.agent("b-plain"))
    assert unskilled.status_code == 204 or unskilled.json()["callback_id"] != callback_id, unskilled.text
    skilled = await kit.client.post("/bench/claim-baseline", headers=kit.agent("b-skilled", "bench_skill"))
    assert skilled.status_code == 200 and skilled.json()["callback_id"] == callback_id, skilled.text
