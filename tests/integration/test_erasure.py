"""Erasure across the suite (issue 21): an account with a contact, an interaction with a note, a scratch pad
and an attachment, a follow-up with a note, a callback and an alert is erased on an administrator's request.
Afterwards no gateway and no collection of any of the five databases holds its personal values (the raw
BSON of every document is searched), and a rebuild of the interactions timeline still succeeds.

A second test kills two services (SIGKILL) while the erasure is under way and shows that it completes after
their restart."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

import bson
import httpx
import pytest
from pymongo import AsyncMongoClient

from icsuite_chassis.data_keys import vault_key_ring
from icsuite_chassis.erasure import ERASED
from icsuite_chassis.settings import DEVELOPMENT_DATA_KEY_MASTER
from icsuite_chassis.testing import publish_envelopes, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded, ContactStarted
from icsuite_contracts.masterdata_v1 import AccountUpserted, Address, BusinessAgreementUpserted, OpenBill
from icsuite_interactions.rebuild import rebuild_timeline

from e2e_steps import headers, new_phone, now, poll_json

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")


@dataclass
class Subject:
    """A customer whose every personal value is unique to this test, and what the suite holds about them."""

    account_id: str
    phone: str
    email: str
    name: str
    street: str
    note: str
    scratch: str
    attachment: bytes
    followup_note: str
    campaign: str
    interaction_id: str = ""
    followup_id: str = ""
    callback_id: str = ""

    def values(self) -> dict[str, bytes]:
        return {"phone": self.phone.encode(), "national phone": self.phone[3:].encode(), "email": self.email.encode(),
                "name": self.name.encode(), "street": self.street.encode(), "note": self.note.encode(),
                "scratch pad": self.scratch.encode(), "attachment": self.attachment,
                "follow-up note": self.followup_note.encode(), "callback attribute": self.campaign.encode()}


def _subject() -> Subject:
    tag = uuid.uuid4().hex[:10]
    return Subject(unique("acc"), new_phone(), f"zora.{tag}@example.org", f"Zora Vergessen{tag}",
                   f"Loeschweg {tag}", f"note-{tag} Kunde zahlt in Raten", f"scratch-{tag} Rückruf morgen",
                   f"%PDF-1.4 attachment-{tag}".encode(), f"fu-note-{tag} Rate prüfen", f"campaign-{tag}")


async def _replicate(suite, s: Subject) -> None:
    address = Address(street=s.street, postcode="10115", city="Berlin", country="DE")
    ba = unique("ba")
    await publish_envelopes(suite.kafka_bootstrap, *(new_envelope(e, source="/erp") for e in [
        AccountUpserted(account_id=s.account_id, source_version=1, kind="person", name=s.name, phones=[s.phone],
                        emails=[s.email], address=address),
        BusinessAgreementUpserted(business_agreement_id=ba, account_id=s.account_id, source_version=1,
                                  balance="120.00", currency="EUR", dunning_level=2, credit_status="ok",
                                  open_bills=[OpenBill(bill_id=unique("bill"), amount="80.00",
                                                       due_date=(now() - timedelta(days=20)).date())])]))


async def _populate(suite, client: httpx.AsyncClient, s: Subject) -> None:
    """A call identified by the number with a note, a scratch pad, an attachment and a follow-up; a web
    callback from the same number; the dunning alert on the agent's account."""
    await _replicate(suite, s)
    agent, contact = unique("agent"), unique("contact")
    as_agent, admin = headers(suite, agent, "agent"), headers(suite, "admin-1", "admin")
    await poll_json(client, suite.url("identity", f"/v1/accounts/{s.account_id}"), as_agent, lambda b: True)
    t0 = now()
    await publish_envelopes(suite.kafka_bootstrap, *(new_envelope(e, source="/cti", correlation_id=contact) for e in [
        ContactStarted(contact_id=contact, channel="phone", direction="inbound", from_address=s.phone,
                       to_address="+493011880", queue="billing", started_at=t0),
        ContactSegmentRecorded(contact_id=contact, segment_id=f"{contact}-1", kind="agent", agent_id=agent,
                               started_at=t0)]))
    context_url = suite.url("identity", f"/v1/contacts/{contact}/context")
    await poll_json(client, context_url, as_agent, lambda b: b.get("account_id") == s.account_id
                    and agent in b.get("agent_ids", []))
    assert (await client.put(context_url, headers=as_agent, json={"account_id": s.account_id})).status_code == 200
    page = await poll_json(client, suite.url("interactions", f"/v1/interactions?contact_id={contact}"), as_agent,
                           lambda b: b["items"] and b["items"][0].get("account_id") == s.account_id)
    s.interaction_id = page["items"][0]["interaction_id"]
    record_url = suite.url("interactions", f"/v1/interactions/{s.interaction_id}")
    for call in (client.post(f"{record_url}/notes", headers=as_agent,
                             json={"type": "note", "language": "de", "text": s.note}),
                 client.put(f"{record_url}/scratch-pad", headers=as_agent, json={"text": s.scratch}),
                 client.post(f"{record_url}/attachments", headers=as_agent,
                             files={"file": ("plan.pdf", s.attachment, "application/pdf")}),
                 client.post(suite.url("followups", "/v1/followups"), headers=as_agent, json={
                     "source": {"type": "interaction", "id": s.interaction_id}, "type": "phone_call",
                     "channel": "phone", "due_at": (now() + timedelta(days=7)).isoformat(),
                     "notes": [{"type": "preparation", "language": "de", "text": s.followup_note}]})):
        response = await call
        assert response.status_code in (200, 201), response.text
        s.followup_id = response.json().get("followup_id", s.followup_id)
    await poll_json(client, suite.url("followups", f"/v1/followups/{s.followup_id}"), as_agent,
                    lambda b: b["account_id"] == s.account_id, timeout=60)
    reason = unique("reason")[:60]
    assert (await client.put(suite.url("callbacks", f"/v1/reason-profiles/{reason}"), headers=admin, json={
        "task_type": "billing_callback", "priority": 5, "sla_minutes": 30, "queue": "billing",
        "max_attempts": 3, "retry_delay_seconds": 1})).status_code in (200, 201)
    response = await client.post(suite.url("callbacks", "/v1/callbacks"), headers=headers(suite, "web", "channel"),
                                 json={"callback_number": s.phone, "reason_code": reason, "time_zone": "Europe/Berlin",
                                       "language": "de", "channel": "web", "preferred_from": now().isoformat(),
                                       "preferred_to": (now() + timedelta(hours=4)).isoformat(),
                                       "attributes": {"campaign": s.campaign}})
    assert response.status_code == 202, response.text
    s.callback_id = response.json()["callback_id"]
    await poll_json(client, suite.url("callbacks", f"/v1/callbacks/{s.callback_id}"), admin,
                    lambda b: b.get("account_id") == s.account_id)
    await poll_json(client, suite.url("alerts", f"/v1/alerts?account_id={s.account_id}"), admin,
                    lambda b: len(b["items"]) >= 1, timeout=60)


async def _erase(suite, client: httpx.AsyncClient, account_id: str, timeout: float = 120) -> dict:
    admin = headers(suite, "admin-1", "admin")
    response = await client.post(suite.url("identity", "/v1/privacy/erasures"), headers=admin,
                                 json={"account_id": account_id})
    assert response.status_code == 202, response.text
    erasure_url = suite.url("identity", f"/v1/privacy/erasures/{response.json()['erasure_id']}")
    return await poll_json(client, erasure_url, admin, lambda b: b["status"] == "completed", timeout=timeout)


async def _found_in_databases(suite, values: dict[str, bytes]) -> list[str]:
    """Every (database.collection, value) whose raw BSON holds one of ``values``."""
    client: AsyncMongoClient = AsyncMongoClient(suite.mongodb_uri)
    found = []
    try:
        for service in SERVICES:
            db = client[suite.database(service)]
            for name in await db.list_collection_names():
                async for doc in db[name].find({}):
                    raw = bson.encode(doc)
                    found += [f"{service}.{name}: {label}" for label, value in values.items() if value in raw]
    finally:
        await client.close()
    return sorted(set(found))


async def _alerts_held_for(suite, account_id: str) -> list[str]:
    """The alerts database's stream copies and absence checks of the account that still hold a message."""
    client: AsyncMongoClient = AsyncMongoClient(suite.mongodb_uri)
    try:
        db = client[suite.database("alerts")]
        copies = await db["alert_stream"].count_documents({"alert.account_id": account_id})
        checks = await db["alert_absences"].count_documents({"account_id": account_id, "message": {"$ne": ERASED}})
    finally:
        await client.close()
    return [f"alert_stream: {copies}"] * bool(copies) + [f"alert_absences: {checks}"] * bool(checks)


async def _shown_by_gateways(suite, client: httpx.AsyncClient, s: Subject) -> list[str]:
    admin = headers(suite, "admin-1", "admin", "supervisor", "agent")
    urls = [suite.url("identity", f"/v1/accounts/{s.account_id}"),
            suite.url("identity", f"/v1/accounts/search?phone=%2B{s.phone[1:]}"),
            suite.url("interactions", f"/v1/interactions/{s.interaction_id}"),
            suite.url("interactions", f"/v1/interactions/{s.interaction_id}/scratch-pad"),
            suite.url("interactions", f"/v1/accounts/{s.account_id}/interactions"),
            suite.url("followups", f"/v1/followups/{s.followup_id}"),
            suite.url("callbacks", f"/v1/callbacks/{s.callback_id}"),
            suite.url("alerts", f"/v1/alerts?account_id={s.account_id}")]
    shown = []
    for url in urls:
        body = (await client.get(url, headers=admin)).content
        shown += [f"{url}: {label}" for label, value in s.values().items() if value in body]
    record = (await client.get(urls[2], headers=admin)).json()
    for attachment in record.get("attachments", []):
        content = await client.get(f"{urls[2]}/attachments/{attachment['attachment_id']}/content", headers=admin)
        if content.status_code == 200:
            shown.append(f"attachment {attachment['attachment_id']} content")
    return shown


async def test_an_erased_account_leaves_no_personal_data_in_gateways_or_databases(suite) -> None:
    s = _subject()
    async with httpx.AsyncClient(timeout=15) as client:
        await _populate(suite, client, s)
        before = await _found_in_databases(suite, s.values())
        assert {"interactions.interactions: note", "callbacks.callbacks: phone", "identity.accounts: name",
                "followups.followups: follow-up note", "alerts.event_log: phone"} <= {
            f.split(" (")[0] for f in before}, before

        erasure = await _erase(suite, client, s.account_id)

        assert all(erasure["services"][svc]["status"] == "erased" for svc in SERVICES), erasure
        counts = {svc: erasure["services"][svc]["erased"] for svc in SERVICES}
        assert counts["interactions"]["notes"] >= 1 and counts["interactions"]["attachments"] == 1, counts
        assert counts["followups"]["notes"] >= 1 and counts["callbacks"]["callback_numbers"] >= 1, counts
        assert counts["identity"]["accounts"] == 1 and counts["alerts"]["events"] >= 1, counts
        assert counts["alerts"]["stream_copies"] >= 1 and counts["alerts"]["absences"] >= 1, counts
        found = await _found_in_databases(suite, s.values())
        assert found == [], found
        assert await _alerts_held_for(suite, s.account_id) == []
        shown = await _shown_by_gateways(suite, client, s)
        assert shown == [], shown
        again = await _erase(suite, client, s.account_id)
        assert again["erasure_id"] != erasure["erasure_id"]

    mongo: AsyncMongoClient = AsyncMongoClient(suite.mongodb_uri)
    try:
        ring = vault_key_ring(mongo[suite.database("key_vault")], DEVELOPMENT_DATA_KEY_MASTER)
        report = await rebuild_timeline(mongo[suite.database("interactions")], suite.kafka_bootstrap, "timeline",
                                        key_ring=ring)
        entry = await mongo[suite.database("interactions")]["timeline"].find_one({"_id": s.interaction_id})
    finally:
        await mongo.close()
    assert report is not None and entry is not None and entry["account_id"] == s.account_id


async def _restart(suite, services: list[str]) -> None:
    """Start again those of ``services`` that are not running (each is waited for until ready)."""
    stopped = [name for name in services if not suite.processes[name].is_running]
    await asyncio.gather(*(asyncio.to_thread(suite.start, name, 90) for name in stopped))


async def test_an_erasure_completes_although_services_are_killed_mid_way(suite) -> None:
    """Interactions is killed (SIGKILL) before the request, so its part certainly waits for the restart;
    callbacks is killed 0.3 s after the request, while the request travels or its run is under way."""
    s = _subject()
    async with httpx.AsyncClient(timeout=15) as client:
        await _populate(suite, client, s)
        admin = headers(suite, "admin-1", "admin")
        try:
            suite.kill("interactions")
            response = await client.post(suite.url("identity", "/v1/privacy/erasures"), headers=admin,
                                         json={"account_id": s.account_id})
            await asyncio.sleep(0.3)
            suite.kill("callbacks")
            assert response.status_code == 202, response.text
            erasure_url = suite.url("identity", f"/v1/privacy/erasures/{response.json()['erasure_id']}")
            waiting = await poll_json(client, erasure_url, admin,
                                      lambda b: b["services"]["identity"]["status"] == "erased")
            assert waiting["services"]["interactions"]["status"] == "pending" and waiting["status"] == "open", waiting
        finally:  # never leave the shared suite without a service, whatever failed above
            await _restart(suite, ["interactions", "callbacks"])

        done = await poll_json(client, erasure_url, admin, lambda b: b["status"] == "completed", timeout=120)

    assert done["services"]["interactions"]["erased"]["notes"] >= 1
    assert done["services"]["callbacks"]["erased"]["callback_numbers"] >= 1
    found = await _found_in_databases(suite, s.values())
    assert found == [], found
