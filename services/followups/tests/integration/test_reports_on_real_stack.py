"""The supervisor's report of open follow-ups per owner, counted by the database, paged, for supervisors."""

from __future__ import annotations

import pytest
import pytest_asyncio
from icsuite_chassis.testing import bearer, running_app, unique

from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
SUPERVISOR = bearer("sup-1", "supervisor")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(followups_settings):
    async with running_app(build_app(followups_settings())) as http:
        yield http


async def _create(client, owner: str, **fields) -> str:
    answer = await client.post("/v1/followups", headers=bearer(owner, "agent"), json={
        "source": {"type": "case", "id": unique("case")}, "type": "task", "channel": "phone", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()["followup_id"]


async def test_each_owners_open_follow_ups_and_the_overdue_ones_page_by_page(client) -> None:
    await _create(client, "anna", due_at="2020-01-01T10:00:00Z")
    started = await _create(client, "anna", due_at="2040-01-01T10:00:00Z")
    assert (await client.patch(f"/v1/followups/{started}", headers=bearer("anna", "agent"),
                               json={"status": "in_process"})).status_code == 200
    done = await _create(client, "anna")
    assert (await client.patch(f"/v1/followups/{done}", headers=bearer("anna", "agent"),
                               json={"status": "completed"})).status_code == 200
    await _create(client, "bea")
    first = (await client.get("/v1/reports/open-work", headers=SUPERVISOR, params={"limit": 1})).json()
    assert first["items"] == [{"agent_id": "anna", "open_followups": 2, "overdue": 1}] and first["next_cursor"]
    rest = (await client.get("/v1/reports/open-work", headers=SUPERVISOR,
                             params={"cursor": first["next_cursor"]})).json()
    assert rest == {"items": [{"agent_id": "bea", "open_followups": 1, "overdue": 0}], "next_cursor": None}


async def test_the_report_is_for_supervisors_and_refuses_bad_input_with_a_problem(client) -> None:
    refused = await client.get("/v1/reports/open-work", headers=bearer("anna", "agent"))
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/v1/reports/open-work")).status_code == 401
    assert (await client.get("/v1/reports/open-work", headers=SUPERVISOR, params={"cursor": "x"})).status_code == 400
    assert (await client.get("/v1/reports/open-work", headers=SUPERVISOR, params={"limit": 500})).status_code == 422
