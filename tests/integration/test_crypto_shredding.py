"""Crypto-shredding on the real stack (issue 21): the five services run with ``IC_CRYPTO_SHREDDING`` (see the
conftest). An account made at identity's gateway, a note on an interaction and a callback for it put personal
values on three topics; the raw records hold none of them, the key ring opens them. After the account's
erasure the raw records still hold none, the account's key in the vault is a tombstone, every record still
decodes with its personal fields erased (none fails), and a rebuild of the timeline succeeds."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from pymongo import AsyncMongoClient

from icsuite_chassis.data_keys import DATA_KEYS, vault_key_ring
from icsuite_chassis.replay import ReplayCounts
from icsuite_chassis.settings import DEVELOPMENT_DATA_KEY_MASTER
from icsuite_chassis.shredding import TOKEN_PREFIX, decode_record
from icsuite_chassis.testing import header, read_topic, unique
from icsuite_contracts.personal import ERASED
from icsuite_interactions.rebuild import rebuild_timeline

from e2e_steps import headers, new_phone, now, poll_json

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
TYPES = {"ic.identity.v1": "ic.identity.account-created.v1", "ic.interactions.v1": "ic.interaction.note-added.v1",
         "ic.callbacks.v1": "ic.callback.queued.v1"}


async def _populate(suite, client: httpx.AsyncClient, phone: str, name: str, note: str) -> str:
    agent = headers(suite, unique("agent"), "agent")
    response = await client.post(suite.url("identity", "/v1/accounts"), headers=agent, json={
        "kind": "person", "name": name, "phones": [phone], "emails": [f"{name.split()[-1]}@example.org"],
        "allow_duplicate": True})
    assert response.status_code == 201, response.text
    account_id = response.json()["account_id"]
    response = await client.post(suite.url("interactions", "/v1/interactions"), headers=agent,
                                 json={"channel": "walk_in", "account_id": account_id})
    assert response.status_code == 201, response.text
    notes_url = suite.url("interactions", f"/v1/interactions/{response.json()['interaction_id']}/notes")
    response = await client.post(notes_url, headers=agent, json={"type": "note", "language": "de", "text": note})
    assert response.status_code == 201, response.text
    reason = unique("reason")[:60]
    admin = headers(suite, "admin-1", "admin")
    assert (await client.put(suite.url("callbacks", f"/v1/reason-profiles/{reason}"), headers=admin, json={
        "task_type": "billing_callback", "priority": 5, "sla_minutes": 30, "queue": "billing",
        "max_attempts": 3, "retry_delay_seconds": 1})).status_code in (200, 201)
    response = await client.post(suite.url("callbacks", "/v1/callbacks"), headers=headers(suite, "web", "channel"),
                                 json={"callback_number": phone, "account_id": account_id, "reason_code": reason,
                                       "time_zone": "Europe/Berlin", "language": "de", "channel": "web",
                                       "preferred_from": now().isoformat(),
                                       "preferred_to": (now() + timedelta(hours=4)).isoformat()})
    assert response.status_code == 202, response.text
    return account_id


async def _records(suite, account_id: str) -> list:
    found = []
    for topic, ce_type in TYPES.items():
        found += await read_topic(suite.kafka_bootstrap, topic, lambda r, t=ce_type: header(r, "ce_type") == t
                                  and account_id.encode() in (r.value or b""), expect=1, timeout=60)
    assert {header(r, "ce_type") for r in found} == set(TYPES.values()), found
    return found


async def test_an_erased_accounts_fields_cannot_be_recovered_from_the_topics(suite) -> None:
    tag = uuid.uuid4().hex[:10]
    phone, name, note = new_phone(), f"Ida Schredder{tag}", f"shred-note-{tag} zahlt in Raten"
    secrets = [phone.encode(), name.encode(), note.encode(), f"Schredder{tag}@example.org".encode()]
    mongo: AsyncMongoClient = AsyncMongoClient(suite.mongodb_uri)
    vault = mongo[suite.database("key_vault")]
    try:
        async with httpx.AsyncClient(timeout=15) as client:
            account_id = await _populate(suite, client, phone, name, note)
            records = await _records(suite, account_id)
            assert not [s for r in records for s in secrets if s in r.value]
            assert all(TOKEN_PREFIX.encode() in r.value for r in records)
            ring = vault_key_ring(vault, DEVELOPMENT_DATA_KEY_MASTER)
            opened = [(await decode_record(r.headers, r.value, ring)).data for r in records]
            assert {getattr(d, "name", None) for d in opened} >= {name}
            assert note in {getattr(d, "text", None) for d in opened}
            assert phone in {getattr(d, "callback_number", None) for d in opened}

            admin = headers(suite, "admin-1", "admin")
            response = await client.post(suite.url("identity", "/v1/privacy/erasures"), headers=admin,
                                         json={"account_id": account_id})
            assert response.status_code == 202, response.text
            await poll_json(client, suite.url("identity", f"/v1/privacy/erasures/{response.json()['erasure_id']}"),
                            admin, lambda b: b["status"] == "completed", timeout=120)

        tombstone = await vault[DATA_KEYS].find_one({"_id": account_id})
        assert tombstone is not None and tombstone["erased"] is True and tombstone["wrapped"] is None
        records = await _records(suite, account_id)
        assert not [s for r in records for s in secrets if s in r.value]
        fresh = vault_key_ring(vault, DEVELOPMENT_DATA_KEY_MASTER)
        erased = [(await decode_record(r.headers, r.value, fresh)).data for r in records]
        account, noted, queued = (next(d for d in erased if hasattr(d, f)) for f in ("name", "text", "callback_number"))
        assert (account.name, account.phones, account.emails) == (ERASED, [], [])
        assert noted.text == ERASED and queued.callback_number == ERASED and queued.account_id == account_id

        counts = ReplayCounts()
        db = mongo[suite.database("interactions")]
        report = await rebuild_timeline(db, suite.kafka_bootstrap, "timeline", counts, fresh)
        assert report is not None and counts.skipped == 0 and counts.events > 0
        assert await db["timeline"].find_one({"account_id": account_id}) is not None
    finally:
        await mongo.close()
