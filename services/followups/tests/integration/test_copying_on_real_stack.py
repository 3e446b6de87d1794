"""Copying control: fields and notes come from an interaction known only through its events."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio
from icsuite_chassis.testing import bearer, eventually, publish_envelopes, running_app, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.interactions_v1 import InteractionAccountLinked, InteractionClosed, InteractionOpened, NoteAdded

from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
ADMIN = bearer("admin-1", "admin")
NOW = datetime(2025, 3, 1, 9, 15, tzinfo=UTC)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def app_and_client(followups_settings, caught_up):
    app = build_app(followups_settings())
    async with running_app(app) as http:
        await caught_up(app)
        yield app, http


@pytest.fixture
def client(app_and_client):
    return app_and_client[1]


def _note(interaction_id: str, type: str, text: str, author: str = "a-1") -> NoteAdded:
    return NoteAdded(interaction_id=interaction_id, account_id="acc-1", note_id=unique("n"), type=type,
                     language="de", text=text, author=author, created_at=NOW)


async def _interaction_known_by_events(stack, app) -> str:
    iid = unique("int")
    events = [
        InteractionOpened(interaction_id=iid, origin="contact", channel="phone", direction="inbound", opened_at=NOW),
        InteractionAccountLinked(interaction_id=iid, account_id="acc-1", business_agreement_id="ba-1",
                                 premise_id="pr-1"),
        _note(iid, "note", "plain note"),
        _note(iid, "report", "the meter was read", author="a-2"),
        _note(iid, "internal", "do not copy"),
        InteractionClosed(interaction_id=iid, account_id="acc-1", business_agreement_id="ba-1", outcome="resolved",
                          reason_code="meter_reading", closed_at=NOW),
    ]
    envelopes = [new_envelope(e, source="/test") for e in events]
    await publish_envelopes(stack.kafka_bootstrap, *envelopes, envelopes[2])  # one note delivered twice
    projection = app.state.runtime.db["interaction_sources"]
    await eventually(lambda: projection.find_one({"_id": iid, "status": "closed"}), timeout=60)
    return iid


async def _set_copy_rules(client, rules: dict) -> None:
    answer = await client.put("/v1/config/copy-rules", json={"source_types": rules}, headers=ADMIN)
    assert answer.status_code == 200, answer.text


async def test_copies_exactly_the_configured_fields_and_note_types(stack, app_and_client) -> None:
    app, client = app_and_client
    iid = await _interaction_known_by_events(stack, app)
    await _set_copy_rules(client, {"interaction": {"fields": ["account_id", "reason_code"], "note_types": ["report"]}})
    answer = await client.post("/v1/followups", json={"source": {"type": "interaction", "id": iid},
                                                      "type": "phone_call", "channel": "phone"}, headers=AGENT)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["account_id"], body["reason_code"]) == ("acc-1", "meter_reading")
    assert body["business_agreement_id"] is None and body["premise_id"] is None
    # written by the agent who copied it, now; the interaction's author is named in copied_from
    assert [(n["type"], n["text"], n["author"], n["copied_from"]["author"]) for n in body["notes"]] == [
        ("report", "the meter was read", "a-17", "a-2")]
    assert datetime.fromisoformat(body["notes"][0]["created_at"]) > NOW
    assert body["copied_fields"] == ["account_id", "reason_code", "notes"]
    assert body["display_area"] == "activity_clipboard"

    await _set_copy_rules(client, {"interaction": {"fields": ["business_agreement_id", "premise_id"],
                                                   "note_types": ["note", "internal"]}})
    other = (await client.post("/v1/followups", json={"source": {"type": "interaction", "id": iid},
                                                      "type": "email", "channel": "phone"}, headers=AGENT)).json()
    assert (other["account_id"], other["reason_code"]) == (None, None)
    assert (other["business_agreement_id"], other["premise_id"]) == ("ba-1", "pr-1")
    assert [n["text"] for n in other["notes"]] == ["plain note", "do not copy"]  # the duplicate applied once


async def test_request_values_win_over_copied_ones(stack, app_and_client) -> None:
    app, client = app_and_client
    iid = await _interaction_known_by_events(stack, app)
    await _set_copy_rules(client, {"interaction": {"fields": ["account_id", "business_agreement_id"], "note_types": []}})
    body = (await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": "interaction", "id": iid}, "type": "task", "channel": "phone", "account_id": "acc-own"})).json()
    assert (body["account_id"], body["business_agreement_id"]) == ("acc-own", "ba-1")
    assert body["copied_fields"] == ["business_agreement_id"] and body["notes"] == []


async def test_a_source_no_topic_carries_is_copied_from_source_data(client) -> None:
    await _set_copy_rules(client, {"service_ticket": {"fields": ["account_id"], "note_types": ["note"]}})
    answer = await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": "service_ticket", "id": unique("tkt")}, "type": "visit", "channel": "email",
        "source_data": {"account_id": "acc-7", "reason_code": "not-copied",
                        "notes": [{"note_id": "t-1", "type": "note", "language": "fr", "text": "ticket note",
                                   "author": "sys-tickets", "created_at": "2025-03-01T10:00:00+01:00"}]}})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["account_id"], body["reason_code"], body["display_area"]) == ("acc-7", None, "business_context")
    assert [(n["text"], n["copied_from"]["note_id"]) for n in body["notes"]] == [("ticket note", "t-1")]
    note = body["notes"][0]
    assert (note["author"], note["copied_from"]["author"]) == ("a-17", "sys-tickets")
    assert datetime.fromisoformat(note["created_at"]) == datetime.fromisoformat(body["created_at"])  # not 2025


async def test_an_interaction_not_known_yet_copies_nothing(client) -> None:
    await _set_copy_rules(client, {"interaction": {"fields": ["account_id"], "note_types": ["note"]}})
    body = (await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": "interaction", "id": unique("int")}, "type": "task", "channel": "phone"})).json()
    assert body["account_id"] is None and body["copied_fields"] == [] and body["notes"] == []
