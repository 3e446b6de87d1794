"""Issues 16, 17 and 19 on the real stack: automatic links on the timeline, media items, the scratch pad,
who may change a record, callbacks closing their outbound records, caps, and any attachment name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.testing import bearer, eventually, publish_envelopes
from icsuite_contracts.callbacks_v1 import CallbackCompleted, CallbackStarted
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactStarted
from icsuite_contracts.identity_v1 import ContactIdentified
from icsuite_contracts.testing import sample_event, unique_id

from icsuite_interactions.domain import caps
from icsuite_interactions.domain.ids import interaction_id_for_callback, interaction_id_for_contact

pytestmark = [pytest.mark.integration]
AGENT, OTHER, SUPERVISOR = bearer("a-17", "agent"), bearer("a-99", "agent"), bearer("s-1", "supervisor")
NOTE = {"type": "note", "language": "en", "text": "x"}
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _env(event):
    return new_envelope(event, source="/tests")


async def _manual(service, headers=AGENT, **body) -> str:
    response = await service.client.post("/v1/interactions", json={"channel": "walk_in", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["interaction_id"]


async def _timeline_ids(service, account_id: str) -> list[str]:
    response = await service.client.get(f"/v1/accounts/{account_id}/interactions", headers=AGENT)
    return [item["interaction_id"] for item in response.json()["items"]]


async def test_media_items_activities_that_name_them_and_the_timelines_media(service) -> None:
    account_id = unique_id("acc")
    interaction_id = await _manual(service, channel="phone", account_id=account_id)
    base = f"/v1/interactions/{interaction_id}"
    fax = await service.client.post(f"{base}/media-items", headers=AGENT,
                                    json={"media": "fax", "direction": "outbound", "started_at": T0.isoformat()})
    assert fax.status_code == 201, fax.text
    assert fax.headers["Location"].startswith(f"{base}/media-items/") and fax.json()["media"] == "fax"
    sent = await service.client.post(f"{base}/activities", headers=AGENT,
                                     json={"kind": "fax_sent", "media_item_id": fax.json()["media_item_id"]})
    assert sent.status_code == 201 and sent.json()["media_item_id"] == fax.json()["media_item_id"]
    unknown = await service.client.post(f"{base}/activities", headers=AGENT, json={"kind": "x", "media_item_id": "mi-x"})
    bad = await service.client.post(f"{base}/media-items", headers=AGENT, json={"media": "pigeon", "direction": "inbound"})
    assert (unknown.status_code, bad.status_code) == (422, 422)
    record = (await service.get(interaction_id)).json()
    assert sorted(m["media"] for m in record["media_items"]) == ["fax", "phone"]

    async def timeline_media() -> list[str]:
        items = (await service.client.get(f"/v1/accounts/{account_id}/interactions", headers=AGENT)).json()["items"]
        assert items and items[0]["media"] == ["fax", "phone"], items
        return items[0]["media"]

    await eventually(timeline_media, timeout=240)  # a fresh group first catches up with the shared topic


async def test_the_scratch_pad_while_open_and_read_only_once_closed(service) -> None:
    interaction_id = await _manual(service)
    url = f"/v1/interactions/{interaction_id}/scratch-pad"
    assert (await service.client.get(url, headers=AGENT)).json()["text"] == ""
    written = await service.client.put(url, headers=AGENT, json={"text": "Zählerstand 4711 – Umzug am 1.4."})
    assert written.status_code == 200 and written.json()["updated_by"] == "a-17"
    done = await service.client.post(f"/v1/interactions/{interaction_id}/complete", headers=AGENT,
                                     json={"outcome": "resolved"})
    assert done.json()["scratch_pad"]["text"] == "Zählerstand 4711 – Umzug am 1.4."
    late = await service.client.put(url, headers=AGENT, json={"text": "after"})
    assert late.status_code == 409 and late.headers["content-type"] == "application/problem+json"
    assert (await service.client.get(url, headers=AGENT)).json()["text"] == "Zählerstand 4711 – Umzug am 1.4."
    too_long = await service.client.put(f"/v1/interactions/{await _manual(service)}/scratch-pad", headers=AGENT,
                                        json={"text": "x" * 40_000})
    assert too_long.status_code == 422


async def test_only_an_agent_of_the_record_or_a_supervisor_may_change_it(service) -> None:
    mine = await _manual(service)
    base = f"/v1/interactions/{mine}"
    refused = [
        service.client.post(f"{base}/notes", json=NOTE, headers=OTHER),
        service.client.post(f"{base}/activities", json={"kind": "x"}, headers=OTHER),
        service.client.post(f"{base}/media-items", json={"media": "fax", "direction": "outbound"}, headers=OTHER),
        service.client.put(f"{base}/scratch-pad", json={"text": "x"}, headers=OTHER),
        service.client.post(f"{base}/attachments", headers=OTHER, files={"file": ("a.pdf", b"%PDF", "application/pdf")}),
        service.client.post(f"{base}/complete", json={"outcome": "resolved"}, headers=OTHER),
    ]
    for request in refused:
        response = await request
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert (await service.client.post(f"{base}/notes", json=NOTE, headers=SUPERVISOR)).status_code == 201
    unassigned = await _manual(service, headers=bearer("scanner", "channel"), channel="letter")
    taken = await service.client.post(f"/v1/interactions/{unassigned}/notes", json=NOTE, headers=OTHER)
    assert taken.status_code == 201 and (await service.get(unassigned)).json()["agent_ids"] == ["a-99"]
    assert (await service.client.post(f"/v1/interactions/{unassigned}/notes", json=NOTE,
                                      headers=AGENT)).status_code == 403
    after = (await service.get(mine)).json()
    assert [n["author"] for n in after["notes"]] == ["s-1"] and after["status"] == "open"


async def test_a_completed_callback_closes_its_outbound_record_with_its_outcome(service) -> None:
    started = sample_event(CallbackStarted, attempt=1, agent_id="a-17", attributes={"campaign": "spring-2025"})
    completed = CallbackCompleted(callback_id=started.callback_id, request_id=started.request_id,
                                  account_id=started.account_id, at=started.at + timedelta(minutes=5),
                                  agent_id="a-17", outcome="reached")
    await publish_envelopes(service.bootstrap, _env(started), _env(completed))
    interaction_id = interaction_id_for_callback(started.callback_id, 1)

    async def closed() -> dict:
        record = (await service.get(interaction_id)).json()
        assert record.get("status") == "closed", record
        return record

    record = await eventually(closed, timeout=120)
    assert record["outcome"] == "reached" and record["duration_s"] == 300.0 and record["closed_by"] == "a-17"
    assert record["attributes"] == {"campaign": "spring-2025"}


async def test_caps_answer_409_and_any_attachment_name_downloads(service, monkeypatch) -> None:
    monkeypatch.setattr(caps, "NOTES", 2)
    interaction_id = await _manual(service)
    base = f"/v1/interactions/{interaction_id}"
    statuses = [(await service.client.post(f"{base}/notes", json=NOTE, headers=AGENT)).status_code for _ in range(3)]
    assert statuses == [201, 201, 409]
    name = "Überweisung 請求書.pdf"
    added = await service.client.post(f"{base}/attachments", headers=AGENT,
                                      files={"file": (name, b"%PDF-1.4", "application/pdf")})
    assert added.status_code == 201, added.text
    download = await service.client.get(added.headers["Location"] + "/content", headers=AGENT)
    assert download.status_code == 200 and download.content == b"%PDF-1.4"
    assert "filename*=UTF-8''%C3%9Cberweisung%20%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf" in download.headers[
        "content-disposition"]


async def test_a_call_linked_automatically_shows_on_the_timeline_and_moves_when_another_is_confirmed(service) -> None:
    contact_id, first, second = unique_id("ct"), unique_id("acc"), unique_id("acc")
    interaction_id = interaction_id_for_contact(contact_id)
    started = ContactStarted(contact_id=contact_id, channel="phone", direction="inbound", from_address="+4930555",
                             started_at=T0)
    automatic = ContactIdentified(contact_id=contact_id, account_id=first, method="auto_number", confirmed=False)
    await publish_envelopes(service.bootstrap, _env(started), _env(automatic))

    async def on_timeline(account_id: str, present: bool = True) -> dict:
        record = (await service.get(interaction_id)).json()
        assert (interaction_id in await _timeline_ids(service, account_id)) is present
        return record

    record = await eventually(lambda: on_timeline(first), timeout=120)
    assert record["account_id"] == first and record["identification"] == "automatic"
    confirmed = ContactIdentified(contact_id=contact_id, account_id=second, method="agent_search", confirmed=True,
                                  agent_id="a-17")
    await publish_envelopes(service.bootstrap, _env(confirmed))
    record = await eventually(lambda: on_timeline(second), timeout=120)
    assert record["account_id"] == second and record["identification"] == "confirmed"
    await eventually(lambda: on_timeline(first, present=False), timeout=120)
