"""Lists: a source's follow-ups with the display area its type decides; an account's planned follow-ups."""

from __future__ import annotations

import pytest
import pytest_asyncio
from icsuite_chassis.testing import bearer, running_app, unique

from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
AREAS = {"interaction": "activity_clipboard", "service_ticket": "business_context",
         "service_order": "business_context", "complaint": "business_context", "case": "linked_objects"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(followups_settings):
    async with running_app(build_app(followups_settings())) as http:
        yield http


async def _create(client, source_type: str, source_id: str, **fields) -> str:
    answer = await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": source_type, "id": source_id}, "type": "task", "channel": "phone", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()["followup_id"]


@pytest.mark.parametrize(("source_type", "area"), sorted(AREAS.items()))
async def test_a_source_lists_its_follow_ups_in_its_display_area(client, source_type, area) -> None:
    source_id = unique(source_type)
    ids = [await _create(client, source_type, source_id) for _ in range(2)]
    await _create(client, source_type, unique(source_type))  # another source's
    answer = await client.get(f"/v1/sources/{source_type}/{source_id}/followups", headers=AGENT)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [i["followup_id"] for i in body["items"]] == ids[::-1]  # newest first
    assert {i["display_area"] for i in body["items"]} == {area} and body["display_area"] == area
    assert body["next_cursor"] is None


async def test_unknown_source_types_answer_422_and_bad_cursors_400(client) -> None:
    assert (await client.get("/v1/sources/blog_post/b-1/followups", headers=AGENT)).status_code == 422
    assert (await client.get("/v1/sources/case/c-1/followups?cursor=garbage", headers=AGENT)).status_code == 400
    assert (await client.get("/v1/accounts/acc-1/followups?status=someday", headers=AGENT)).status_code == 422


async def test_an_account_lists_its_planned_follow_ups_page_by_page(client) -> None:
    account = unique("acc")
    dated = {"account_id": account, "due_at": "2031-01-01T10:00:00+01:00"}
    planned = [await _create(client, "interaction", unique("int"), **dated) for _ in range(3)]
    started = await _create(client, "case", unique("case"), account_id=account, planned_start="2031-01-02T09:00:00Z")
    await client.patch(f"/v1/followups/{started}", headers=AGENT, json={"status": "in_process"})
    undated = await _create(client, "interaction", unique("int"), account_id=account)
    cancelled = await _create(client, "interaction", unique("int"), **dated)
    await client.patch(f"/v1/followups/{cancelled}", headers=AGENT, json={"status": "cancelled"})
    await _create(client, "interaction", unique("int"), account_id=unique("acc"), due_at="2031-01-01T10:00:00Z")

    seen, cursor = [], None
    while True:
        query = f"?status=planned&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(f"/v1/accounts/{account}/followups{query}", headers=AGENT)).json()
        seen += [i["followup_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [started, *planned[::-1]]
    first = (await client.get(f"/v1/accounts/{account}/followups?status=planned&limit=2", headers=AGENT)).json()
    other = await client.get(f"/v1/accounts/{unique('acc')}/followups?status=planned&cursor={first['next_cursor']}",
                             headers=AGENT)
    assert other.status_code == 400 and other.json()["type"].endswith("/invalid-cursor")  # another account's list
    everything = (await client.get(f"/v1/accounts/{account}/followups", headers=AGENT)).json()["items"]
    assert {i["followup_id"] for i in everything} == {*planned, started, undated, cancelled}
    only_cancelled = (await client.get(f"/v1/accounts/{account}/followups?status=cancelled", headers=AGENT)).json()
    assert [i["followup_id"] for i in only_cancelled["items"]] == [cancelled]
    assert "notes" not in only_cancelled["items"][0] or only_cancelled["items"][0]["notes"] is None
