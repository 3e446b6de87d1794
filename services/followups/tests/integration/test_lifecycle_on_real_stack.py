"""Creating, reading and changing follow-ups; every change is an event; bad input answers 4xx problems."""

from __future__ import annotations

import json

import pytest
import pytest_asyncio
from icsuite_chassis.testing import bearer, header, running_app, unique

from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
TIME_DRIVEN = {"ic.followup.overdue.v1", "ic.followup.due.v1"}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(followups_settings):
    async with running_app(build_app(followups_settings())) as http:
        yield http


def _body(**overrides) -> dict:
    return {"source": {"type": "interaction", "id": unique("int")}, "type": "phone_call", "channel": "phone",
            "account_id": "acc-1", **overrides}


async def test_a_follow_up_is_created_read_and_changed_with_its_events(client, followup_events) -> None:
    created = await client.post("/v1/followups", headers={**AGENT, "X-Correlation-ID": "ct-1"}, json=_body(
        planned_start="2025-03-04T09:00:00+01:00", planned_end="2025-03-04T10:00:00+01:00",
        due_at="2025-03-05T17:00:00+01:00", reason_code="meter_reading", priority=7, owner_id="a-20",
        contact_person_id="acc-2"))
    assert created.status_code == 201, created.text
    fid = created.json()["followup_id"]
    read = (await client.get(created.headers["location"], headers=AGENT)).json()
    assert read["status"] == "open" and read["priority"] == 7 and read["contact_person_id"] == "acc-2"
    assert read["planned_start"] == "2025-03-04T09:00:00+01:00"  # read back in the offset it was given in

    owner, new_owner = bearer("a-20", "agent"), bearer("a-21", "agent")
    started = await client.patch(f"/v1/followups/{fid}", headers=owner, json={"status": "in_process", "owner_id": "a-21"})
    assert started.status_code == 200 and started.json()["status"] == "in_process" and started.json()["version"] == 2
    again = await client.patch(f"/v1/followups/{fid}", headers=new_owner, json={"status": "in_process"})
    assert again.json()["version"] == 2  # nothing changed, nothing emitted
    done = await client.patch(f"/v1/followups/{fid}", headers=new_owner, json={"status": "completed"})
    assert done.json()["status"] == "completed"

    records = [r for r in await followup_events(fid, expect=5, timeout=5)
               if header(r, "ce_type") not in TIME_DRIVEN][:4]  # its due date passed: the overdue job reports it
    assert [header(r, "ce_type") for r in records] == [
        "ic.followup.created.v1", "ic.followup.updated.v1", "ic.followup.status-changed.v1",
        "ic.followup.status-changed.v1"]
    assert json.loads(records[0].value)["contact_person_id"] == "acc-2"
    assert json.loads(records[1].value)["changed"] == ["owner_id"]
    assert [json.loads(r.value)["new_status"] for r in records[2:]] == ["in_process", "completed"]
    assert {header(r, "ce_correlationid") for r in records} == {"ct-1"}


async def test_status_transitions_are_checked(client) -> None:
    fid = (await client.post("/v1/followups", headers=AGENT, json=_body())).json()["followup_id"]
    assert (await client.patch(f"/v1/followups/{fid}", headers=AGENT, json={"status": "cancelled"})).status_code == 200
    reopen = await client.patch(f"/v1/followups/{fid}", headers=AGENT, json={"status": "open"})
    assert reopen.status_code == 409 and reopen.headers["content-type"] == "application/problem+json"
    later = await client.patch(f"/v1/followups/{fid}", headers=AGENT, json={"due_at": "2030-01-01T00:00:00Z"})
    assert later.status_code == 409
    for status in ("closed", "planned", None):
        assert (await client.patch(f"/v1/followups/{fid}", headers=AGENT, json={"status": status})).status_code == 422


async def test_an_end_before_its_start_is_refused(client) -> None:
    answer = await client.post("/v1/followups", headers=AGENT, json=_body(
        planned_start="2025-03-04T10:00:00+01:00", planned_end="2025-03-04T09:59:00+01:00"))
    assert answer.status_code == 422 and answer.json()["code"] == "invalid-schedule"
    fid = (await client.post("/v1/followups", headers=AGENT, json=_body(
        planned_start="2025-03-04T10:00:00+01:00"))).json()["followup_id"]
    patched = await client.patch(f"/v1/followups/{fid}", headers=AGENT, json={"planned_end": "2025-03-04T08:00:00Z"})
    assert patched.status_code == 422  # 09:00 in CET, before the start at 10:00


@pytest.mark.parametrize("change", [
    {"source": {"type": "blog_post", "id": "b-1"}},
    {"source": {"type": "interaction"}},
    {"source": {"type": "interaction", "id": 17}},
    {"source": {"type": "interaction", "id": ""}},
    {"type": "pigeon"},
    {"channel": "telepathy"},
    {"account_id": 100200},
    {"account_id": ["acc-1"]},
    {"reason_code": {"$ne": None}},
    {"owner_id": True},
    {"priority": "high"},
    {"priority": 10},
    {"priority": True},
    {"due_at": "2025-03-05T17:00:00"},
    {"due_at": "tomorrow"},
    {"due_at": "9999-12-31T23:59:59-14:00"},
    {"notes": [{"type": "note", "language": "english", "text": "x"}]},
    {"notes": [{"type": "note", "language": "en", "text": "x" * 40_000}]},
    {"scratch_pad": {"text": "x", "note_type": "gossip"}},
    {"scratch_pad": {"text": "x", "language": "zz-ZZ"}},
    {"source_data": {"notes": [{"note_id": "n", "type": "note", "language": "@@", "text": "x", "author": "a",
                                "created_at": "2025-03-01T10:00:00Z"}]}},
])
async def test_bad_input_answers_problem_details(client, change) -> None:
    answer = await client.post("/v1/followups", headers=AGENT, json=_body(**change))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_unknown_ids_roles_and_malformed_bodies(client) -> None:
    assert (await client.get("/v1/followups/fu-unknown", headers=AGENT)).status_code == 404
    assert (await client.patch("/v1/followups/fu-unknown", headers=AGENT, json={"priority": 1})).status_code == 404
    assert (await client.post("/v1/followups", json=_body())).status_code == 401
    assert (await client.post("/v1/followups", json=_body(), headers=bearer("ch-1", "channel"))).status_code == 403
    assert (await client.post("/v1/followups", json=_body(), headers=bearer("a" * 129, "agent"))).status_code == 422
    raw = await client.post("/v1/followups", content=b"{not json", headers={**AGENT, "content-type": "application/json"})
    assert raw.status_code == 422
    assert (await client.post("/v1/followups", json=[1, 2], headers=AGENT)).status_code == 422
    fid = (await client.post("/v1/followups", headers=AGENT, json=_body())).json()["followup_id"]
    assert (await client.patch(f"/v1/followups/{fid}", headers=AGENT, json={"type": "email"})).status_code == 422
    assert (await client.patch(f"/v1/followups/{fid}", headers=AGENT, json={"priority": None})).status_code == 422


async def test_only_the_owner_or_a_supervisor_changes_a_follow_up(client, followup_events) -> None:
    created = (await client.post("/v1/followups", headers=AGENT, json=_body(owner_id="a-30"))).json()
    assert created["owner_id"] == "a-30"
    fid, url = created["followup_id"], f"/v1/followups/{created['followup_id']}"
    for headers in (AGENT, bearer("a-31", "agent")):  # its creator is not its owner; another agent neither
        for change in ({"owner_id": "a-31"}, {"status": "cancelled"}, {"status": "completed"}, {"priority": 1}):
            refused = await client.patch(url, headers=headers, json=change)
            assert refused.status_code == 403, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "not-owner"
    assert (await client.get(url, headers=AGENT)).json()["version"] == 1  # nothing changed
    note = await client.post(f"{url}/notes", headers=bearer("a-31", "agent"),
                             json={"type": "note", "language": "en", "text": "tried to reach the customer"})
    assert note.status_code == 201  # anyone on the team adds to the history
    assert (await client.patch(url, headers=bearer("a-30", "agent"), json={"priority": 2})).status_code == 200
    assert (await client.patch(url, headers=bearer("s-1", "supervisor"), json={"owner_id": "a-31"})).status_code == 200
    assert (await client.patch(url, headers=bearer("a-30", "agent"), json={"priority": 3})).status_code == 403
    done = await client.patch(url, headers=bearer("a-31", "agent"), json={"status": "completed"})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    records = await followup_events(fid, expect=5)
    assert [json.loads(r.value).get("by") for r in records[2:]] == ["a-30", "s-1", "a-31"]


async def test_a_follow_up_created_without_owner_is_owned_by_its_creator(client) -> None:
    created = (await client.post("/v1/followups", headers=AGENT, json=_body())).json()
    assert created["owner_id"] == "a-17"
