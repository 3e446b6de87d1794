"""The gateway: manual records, notes, activities, attachments, completion and its read-only result."""

from __future__ import annotations

import hashlib
import json

import pytest
from icsuite_chassis.testing import bearer, header, read_topic
from icsuite_contracts.testing import unique_id

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
NOTE = {"type": "note", "language": "de", "text": "Kunde bittet um Ratenzahlung."}


async def _manual(service, account_id: str | None = None, headers=AGENT) -> dict:
    body = {"channel": "walk_in", "account_id": account_id or unique_id("acc")}
    response = await service.client.post("/v1/interactions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/v1/interactions/{response.json()['interaction_id']}"
    return response.json()


def _upload(content: bytes, media_type: str = "application/pdf", name: str = "receipt.pdf") -> dict:
    return {"files": {"file": (name, content, media_type)}}


async def test_a_manual_record_collects_notes_activities_and_attachments(service) -> None:
    record = await _manual(service)
    base = f"/v1/interactions/{record['interaction_id']}"
    assert record["status"] == "open" and record["origin"] == "manual" and record["agent_ids"] == ["a-17"]
    note = await service.client.post(f"{base}/notes", json=NOTE, headers=AGENT)
    assert note.status_code == 201 and note.json()["author"] == "a-17"
    assert (await service.client.get(note.headers["Location"], headers=AGENT)).json()["text"] == NOTE["text"]
    activity = await service.client.post(f"{base}/activities", json={"kind": "fax_sent", "details": {"to": "x"}},
                                         headers=AGENT)
    assert activity.status_code == 201 and activity.json()["kind"] == "fax_sent"
    content = b"%PDF-1.4 receipt"
    attachment = await service.client.post(f"{base}/attachments", headers=AGENT, **_upload(content))
    assert attachment.status_code == 201, attachment.text
    assert attachment.json()["sha256"] == hashlib.sha256(content).hexdigest() and attachment.json()["size"] == 16
    download = await service.client.get(attachment.headers["Location"] + "/content", headers=AGENT)
    assert download.content == content and download.headers["content-type"] == "application/pdf"
    body = (await service.get(record["interaction_id"])).json()
    assert [a["kind"] for a in body["activities"]] == ["note_added", "fax_sent", "attachment_added"]
    assert len(body["notes"]) == 1 and len(body["attachments"]) == 1
    types = await read_topic(service.bootstrap, "ic.interactions.v1",
                             lambda r: r.key == record["interaction_id"].encode(), expect=4, timeout=30)
    assert {header(r, "ce_type") for r in types} == {
        "ic.interaction.opened.v1", "ic.interaction.note-added.v1", "ic.interaction.activity-recorded.v1"}


async def test_completion_makes_the_record_read_only(service) -> None:
    record = await _manual(service)
    base = f"/v1/interactions/{record['interaction_id']}"
    done = await service.client.post(f"{base}/complete", headers=AGENT,
                                     json={"outcome": "resolved", "result": "order_placed", "reason_code": "billing"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "closed" and done.json()["outcome"] == "resolved"
    changes = [
        service.client.post(f"{base}/notes", json=NOTE, headers=AGENT),
        service.client.post(f"{base}/activities", json={"kind": "fax_sent"}, headers=AGENT),
        service.client.post(f"{base}/attachments", headers=AGENT, **_upload(b"late")),
        service.client.post(f"{base}/complete", json={"outcome": "resolved"}, headers=AGENT),
        service.client.post("/v1/interactions/complete", headers=AGENT, json={
            "account_id": record["account_id"], "interaction_ids": [record["interaction_id"]], "outcome": "x"}),
    ]
    for change in changes:
        response = await change
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
    after = (await service.get(record["interaction_id"])).json()
    assert after["notes"] == [] and after["activities"] == [] and after["attachments"] == []
    closed = await read_topic(service.bootstrap, "ic.interactions.v1",
                              lambda r: r.key == record["interaction_id"].encode()
                              and header(r, "ce_type") == "ic.interaction.closed.v1", expect=1, timeout=30)
    data = json.loads(closed[0].value)
    assert data["outcome"] == "resolved" and data["agent_ids"] == ["a-17"] and data["account_id"] == record["account_id"]


async def test_bad_input_answers_problem_details_never_500(service) -> None:
    record = await _manual(service)
    base = f"/v1/interactions/{record['interaction_id']}"
    unknown = "/v1/interactions/int-does-not-exist"
    cases = [
        (service.client.get(unknown, headers=AGENT), 404),
        (service.client.post(f"{unknown}/notes", json=NOTE, headers=AGENT), 404),
        (service.client.post(f"{unknown}/complete", json={"outcome": "x"}, headers=AGENT), 404),
        (service.client.post(f"{unknown}/attachments", headers=AGENT, **_upload(b"x")), 404),
        (service.client.get(f"{base}/notes/n-nope", headers=AGENT), 404),
        (service.client.post(f"{base}/attachments", headers=AGENT, **_upload(b"x" * (64 * 1024 + 1))), 413),
        (service.client.post(f"{base}/attachments", headers=AGENT, **_upload(b"MZ", "application/x-msdownload")), 415),
        (service.client.post(f"{base}/attachments", headers=AGENT, data={"file": "not a file"}), 422),
        (service.client.get("/v1/accounts/acc-1/interactions?cursor=%%%", headers=AGENT), 400),
        (service.client.get("/v1/accounts/acc-1/interactions?cursor=eyJ0IjoxfQ", headers=AGENT), 400),
        (service.client.get("/v1/interactions?cursor=e30", headers=AGENT), 400),
        (service.client.post(f"{base}/notes", json={**NOTE, "text": 5}, headers=AGENT), 422),
        (service.client.post(f"{base}/notes", json=[NOTE], headers=AGENT), 422),
        (service.client.post(f"{base}/complete", json={"outcome": ["x"]}, headers=AGENT), 422),
        (service.client.post("/v1/interactions", json={"channel": "pigeon"}, headers=AGENT), 422),
        (service.client.post(f"{base}/activities", json={"kind": "x", "details": {"n": 1}}, headers=AGENT), 422),
        (service.client.get(base), 401),
        (service.client.get(base, headers=bearer("web", "channel")), 403),
        (service.client.post(f"{base}/notes", json=NOTE, headers=bearer("web", "channel")), 403),
    ]
    for request, status in cases:
        response = await request
        assert response.status_code == status, (status, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await service.get(record["interaction_id"])).json()["attachments"] == []


async def test_a_channel_may_create_a_manual_record_for_an_agent(service) -> None:
    record = await _manual(service, headers=bearer("scanner", "channel"))
    assert record["agent_ids"] == []
    response = await service.client.post("/v1/interactions", headers=bearer("front-desk", "channel"),
                                         json={"channel": "letter", "agent_id": "a-5"})
    assert response.status_code == 201 and response.json()["agent_ids"] == ["a-5"]
    mine = await service.client.get("/v1/interactions", params={"agent_id": "a-5", "status": "open"}, headers=AGENT)
    assert response.json()["interaction_id"] in [i["interaction_id"] for i in mine.json()["items"]]
