"""After an account's erasure, what names the account only later comes in erased: a follow-up whose copy
completes with the erased account (its notes) and the interaction notes that arrive late for copying control."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_asyncio
from icsuite_chassis.erasure import ERASED
from icsuite_chassis.testing import bearer, eventually, publish_envelopes, running_app, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.interactions_v1 import InteractionAccountLinked, InteractionOpened, NoteAdded
from icsuite_contracts.privacy_v1 import ErasureRequested

from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def app_and_client(followups_settings, caught_up):
    app = build_app(followups_settings())
    async with running_app(app) as http:
        await caught_up(app)
        yield app, http


def _note(iid: str, text: str, account_id: str | None = None):
    return new_envelope(NoteAdded(interaction_id=iid, note_id=unique("n"), type="internal", language="de", text=text,
                                  author="a-1", created_at=NOW, account_id=account_id), source="/test")


async def test_a_follow_up_linked_to_an_erased_account_later_loses_its_notes(stack, app_and_client) -> None:
    app, client = app_and_client
    db = app.state.runtime.db
    iid, account, erasure_id = unique("int"), unique("acc"), unique("er")
    await publish_envelopes(stack.kafka_bootstrap, new_envelope(InteractionOpened(
        interaction_id=iid, origin="contact", channel="phone", direction="inbound", opened_at=NOW), source="/test"))
    await eventually(lambda: db["interaction_sources"].find_one({"_id": iid}), timeout=60)
    created = await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": "interaction", "id": iid}, "type": "phone_call", "channel": "phone",
        "notes": [{"type": "note", "language": "de", "text": "Kunde Erika, Tel. privat"}]})
    assert created.status_code == 201 and created.json()["account_id"] is None, created.text
    fid = created.json()["followup_id"]

    await publish_envelopes(stack.kafka_bootstrap, new_envelope(ErasureRequested(
        erasure_id=erasure_id, account_id=account, requested_by="admin-1", requested_at=NOW), source="/identity"))
    await eventually(lambda: db["erasures"].find_one({"_id": erasure_id, "done": True}), timeout=60)
    assert (await client.get(f"/v1/followups/{fid}", headers=AGENT)).json()["notes"][0]["text"] != ERASED

    # the interaction's account arrives after the erasure, with a late note
    await publish_envelopes(stack.kafka_bootstrap, new_envelope(InteractionAccountLinked(
        interaction_id=iid, account_id=account), source="/test"), _note(iid, "Rückruf an Erika", account))

    async def erased() -> dict | None:
        body = (await client.get(f"/v1/followups/{fid}", headers=AGENT)).json()
        return body if body["account_id"] == account and body["notes"][0]["text"] == ERASED else None
    await eventually(erased, timeout=60)
    await eventually(lambda: db["interaction_sources"].find_one({"_id": iid, "notes.text": ERASED}), timeout=60)
    source = await db["interaction_sources"].find_one({"_id": iid})   # the note came in, then was erased
    assert [n["text"] for n in source["notes"]] == [ERASED]
    assert await db["erased_accounts"].find_one({"_id": account}) is not None

    # an agent linking another follow-up to the erased account: its notes are erased at once
    other = await client.post("/v1/followups", headers=AGENT, json={
        "source": {"type": "case", "id": unique("case")}, "type": "task", "channel": "phone",
        "account_id": account, "notes": [{"type": "note", "language": "de", "text": "Erika ruft an"}]})
    assert other.status_code == 201 and other.json()["notes"][0]["text"] == ERASED, other.text
