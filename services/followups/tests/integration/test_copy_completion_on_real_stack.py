"""Copying control completed: a follow-up created before the projection knew its interaction's account
gets the account when the interaction's events tell it, once, and never over an agent's value."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio
from icsuite_chassis.testing import bearer, eventually, header, publish_envelopes, running_app, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.interactions_v1 import InteractionAccountLinked, InteractionOpened, NoteAdded

from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
NOW = datetime(2025, 3, 1, 9, 15, tzinfo=UTC)
UPDATED = "ic.followup.updated.v1"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def app_and_client(followups_settings, caught_up):
    app = build_app(followups_settings())
    async with running_app(app) as http:
        await caught_up(app)
        yield app, http


def _opened(iid: str, account_id: str | None = None):
    return new_envelope(InteractionOpened(interaction_id=iid, origin="contact", channel="phone", direction="inbound",
                                          account_id=account_id, opened_at=NOW), source="/test")


def _linked(iid: str):
    return new_envelope(InteractionAccountLinked(interaction_id=iid, account_id="acc-1", business_agreement_id="ba-1",
                                                 premise_id="pr-1"), source="/test")


async def _known_without_account(stack, app) -> str:
    iid = unique("int")
    await publish_envelopes(stack.kafka_bootstrap, _opened(iid))
    await eventually(lambda: app.state.runtime.db["interaction_sources"].find_one({"_id": iid, "status": "open"}), timeout=60)
    return iid


async def _all_consumed(stack, app, iid: str) -> None:
    """Publish a marker after what was published for ``iid``; once it is applied, so is everything before."""
    marker = unique("n")
    await publish_envelopes(stack.kafka_bootstrap, new_envelope(NoteAdded(
        interaction_id=iid, note_id=marker, type="internal", language="en", text="marker", author="a-1",
        created_at=NOW), source="/test"))
    await eventually(lambda: app.state.runtime.db["interaction_sources"].find_one({"_id": iid, "notes.note_id": marker}), timeout=60)


async def _create(client, iid: str, **fields) -> dict:
    answer = await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": "interaction", "id": iid}, "type": "phone_call", "channel": "phone", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def _read(client, fid: str) -> dict:
    return (await client.get(f"/v1/followups/{fid}", headers=AGENT)).json()


async def test_the_account_linked_after_creation_is_copied_once(stack, app_and_client, followup_events) -> None:
    app, client = app_and_client
    iid = await _known_without_account(stack, app)
    created = await _create(client, iid)
    assert created["account_id"] is None and created["copied_fields"] == []

    linked = _linked(iid)
    await publish_envelopes(stack.kafka_bootstrap, linked, linked)  # delivered twice
    await _all_consumed(stack, app, iid)
    completed = await _read(client, created["followup_id"])
    assert (completed["account_id"], completed["business_agreement_id"]) == ("acc-1", "ba-1")
    assert completed["premise_id"] is None  # the default rule of interactions does not copy it
    assert completed["version"] == 2 and completed["copied_fields"] == ["account_id", "business_agreement_id"]
    updates = await followup_events(created["followup_id"], UPDATED, expect=2, timeout=3)
    assert len(updates) == 1
    assert header(updates[0], "ce_causationid") == linked.id


async def test_an_account_the_agent_set_is_not_changed(stack, app_and_client, followup_events) -> None:
    app, client = app_and_client
    iid = await _known_without_account(stack, app)
    own = await _create(client, iid, account_id="acc-own")
    changed = await _create(client, iid)
    answer = await client.patch(f"/v1/followups/{changed['followup_id']}", headers=AGENT,
                                json={"account_id": "acc-2"})
    assert answer.status_code == 200, answer.text

    await publish_envelopes(stack.kafka_bootstrap, _linked(iid))
    await _all_consumed(stack, app, iid)
    for fid, account in ((own["followup_id"], "acc-own"), (changed["followup_id"], "acc-2")):
        body = await _read(client, fid)
        assert body["account_id"] == account and body["business_agreement_id"] is None  # not another account's
    assert await followup_events(own["followup_id"], UPDATED, expect=1, timeout=2) == []


async def test_an_interaction_not_seen_yet_gives_its_account_when_it_arrives(stack, app_and_client) -> None:
    app, client = app_and_client
    iid = unique("int")
    created = await _create(client, iid)
    assert created["account_id"] is None
    completed = await _create(client, iid)
    answer = await client.patch(f"/v1/followups/{completed['followup_id']}", headers=AGENT,
                                json={"status": "completed"})
    assert answer.status_code == 200, answer.text

    await publish_envelopes(stack.kafka_bootstrap, _opened(iid, account_id="acc-9"))

    async def both_have_the_account() -> bool:
        bodies = [await _read(client, f["followup_id"]) for f in (created, completed)]
        return all(b["account_id"] == "acc-9" for b in bodies)

    await eventually(both_have_the_account, timeout=60)
    assert (await _read(client, completed["followup_id"]))["status"] == "completed"  # a finished one too


async def test_a_redelivery_after_the_projection_was_written_still_completes(stack, app_and_client) -> None:
    """As if the consumer stopped between the projection write and the follow-ups: the event comes again."""
    app, client = app_and_client
    iid = await _known_without_account(stack, app)
    created = await _create(client, iid)
    linked = _linked(iid)
    await app.state.service.interactions.apply([linked])  # the projection only
    await publish_envelopes(stack.kafka_bootstrap, linked)
    await eventually(lambda: _has_account(client, created["followup_id"]), timeout=60)


async def _has_account(client, fid: str) -> bool:
    return (await _read(client, fid))["account_id"] == "acc-1"
