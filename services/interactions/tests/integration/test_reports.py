"""The supervisor's reports on the real stack: today's records by outcome and reason, each agent's open ones."""

from __future__ import annotations

import pytest
from icsuite_chassis.testing import bearer
from icsuite_contracts.testing import unique_id

pytestmark = [pytest.mark.integration]
FROM_THE_END = True  # the reports count every record of the database: only this module's
SUPERVISOR = bearer("sup-1", "supervisor")


async def _open(service, agent_id: str) -> str:
    response = await service.client.post("/v1/interactions", headers=bearer(agent_id, "agent"),
                                         json={"channel": "walk_in", "account_id": unique_id("acc")})
    assert response.status_code == 201, response.text
    return str(response.json()["interaction_id"])


async def _complete(service, interaction_id: str, agent_id: str, outcome: str, reason: str | None) -> None:
    body = {"outcome": outcome, **({"reason_code": reason} if reason else {})}
    response = await service.client.post(f"/v1/interactions/{interaction_id}/complete", json=body,
                                         headers=bearer(agent_id, "agent"))
    assert response.status_code == 200, response.text


async def test_todays_records_by_outcome_and_reason_and_each_agents_open_records(service) -> None:
    anna = [await _open(service, "anna") for _ in range(4)]
    await _open(service, "bea")
    await _complete(service, anna[0], "anna", "resolved", "billing")
    await _complete(service, anna[1], "anna", "resolved", "move")
    await _complete(service, anna[2], "anna", "escalated", None)
    report = (await service.client.get("/v1/reports/interactions/today", headers=SUPERVISOR,
                                       params={"time_zone": "Europe/Berlin"})).json()
    assert (report["opened"], report["closed"], report["open_now"]) == (5, 3, 2)
    assert report["by_outcome"] == [{"code": "resolved", "count": 2}, {"code": "escalated", "count": 1}]
    assert report["by_reason"] == [{"code": "billing", "count": 1}, {"code": "move", "count": 1},
                                   {"code": None, "count": 1}]
    assert report["time_zone"] == "Europe/Berlin" and report["groups_left_off"] == 0
    first = (await service.client.get("/v1/reports/open-work", headers=SUPERVISOR, params={"limit": 1})).json()
    assert first["items"] == [{"agent_id": "anna", "open_interactions": 1}] and first["next_cursor"]
    rest = (await service.client.get("/v1/reports/open-work", headers=SUPERVISOR,
                                     params={"cursor": first["next_cursor"]})).json()
    assert rest == {"items": [{"agent_id": "bea", "open_interactions": 1}], "next_cursor": None}


@pytest.mark.parametrize("path", ["/v1/reports/interactions/today", "/v1/reports/open-work"])
async def test_the_reports_are_for_supervisors_and_refuse_bad_input_with_a_problem(service, path: str) -> None:
    refused = await service.client.get(path, headers=bearer("anna", "agent"))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert (await service.client.get(path)).status_code == 401
    zone = await service.client.get("/v1/reports/interactions/today", headers=SUPERVISOR,
                                    params={"time_zone": "Mars/Base"})
    assert zone.status_code == 422 and "time zone" in zone.json()["detail"]
    long_zone = await service.client.get("/v1/reports/interactions/today", headers=SUPERVISOR,
                                         params={"time_zone": "x" * 65})
    assert long_zone.status_code == 422
    bad = await service.client.get("/v1/reports/open-work", headers=SUPERVISOR, params={"cursor": "forged"})
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
