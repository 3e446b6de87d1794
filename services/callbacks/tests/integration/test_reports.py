"""The supervisor's reports on the real stack: counted by the database, paged, for supervisors only."""

from __future__ import annotations

import pytest
from icsuite_chassis.testing import unique

pytestmark = [pytest.mark.integration]
FROM_THE_END = True  # the reports count every item of the database: only this module's


async def _profile(kit, sla_minutes: int) -> str:
    code = unique("report").replace("-", "_")
    body = {"priority": 3, "sla_minutes": sla_minutes, "queue": code}
    assert (await kit.client.put(f"/v1/reason-profiles/{code}", json=body, headers=kit.admin)).status_code == 201
    return code


async def test_open_callbacks_by_status_and_queue_the_due_ones_and_each_agents_inbox(kit) -> None:
    soon, later = await _profile(kit, 10), await _profile(kit, 600)
    first = await kit.request(reason_code=soon)
    urgent = [first] + [await kit.request(reason_code=soon) for _ in range(2)]
    relaxed = await kit.request(reason_code=later)
    for callback_id in urgent + [relaxed]:
        await kit.status_is(callback_id, "queued")
    assert (await kit.act(urgent[1], "claim", kit.agent("anna"))).status_code == 200
    assert (await kit.act(relaxed, "claim", kit.agent("bea"))).status_code == 200

    report = (await kit.client.get("/v1/reports/callbacks", headers=kit.supervisor)).json()
    counts = {(c["status"], c["queue"]): c["count"] for c in report["counts"]}
    assert counts == {("queued", soon): 2, ("claimed", soon): 1, ("claimed", later): 1}
    assert (report["breached"], report["due_soon"], report["due_soon_minutes"]) == (0, 3, 30)
    assert report["oldest_waiting"]["callback_id"] == first

    pages, cursor = [], None
    while True:
        page = (await kit.client.get("/v1/reports/callbacks/due", headers=kit.supervisor,
                                     params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        pages.append([item["callback_id"] for item in page["items"]])
        if not (cursor := page["next_cursor"]):
            break
    assert sorted(sum(pages, [])) == sorted(urgent) and len(pages[0]) == 2
    breached = await kit.client.get("/v1/reports/callbacks/due", headers=kit.supervisor,
                                    params={"within_minutes": 0})
    assert breached.json() == {"items": [], "next_cursor": None}

    work = (await kit.client.get("/v1/reports/open-work", headers=kit.admin, params={"limit": 1})).json()
    assert work["items"] == [{"agent_id": "anna", "claimed": 1, "in_progress": 0}] and work["next_cursor"]
    rest = (await kit.client.get("/v1/reports/open-work", headers=kit.admin,
                                 params={"cursor": work["next_cursor"]})).json()
    assert rest == {"items": [{"agent_id": "bea", "claimed": 1, "in_progress": 0}], "next_cursor": None}


@pytest.mark.parametrize("path", ["/v1/reports/callbacks", "/v1/reports/callbacks/due", "/v1/reports/open-work"])
async def test_the_reports_are_for_supervisors_and_refuse_bad_input_with_a_problem(kit, path: str) -> None:
    refused = await kit.client.get(path, headers=kit.agent("anna"))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert (await kit.client.get(path)).status_code == 401
    bad = await kit.client.get(path, headers=kit.supervisor, params={"cursor": "not-a-cursor", "limit": 5})
    assert bad.status_code == (200 if path == "/v1/reports/callbacks" else 400), bad.text
    for params in ({"limit": 0}, {"limit": 201}, {"within_minutes": -1}):
        response = await kit.client.get("/v1/reports/callbacks/due", headers=kit.supervisor, params=params)
        assert response.status_code == 422 and response.json()["status"] == 422
