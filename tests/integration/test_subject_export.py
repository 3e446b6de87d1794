"""The data subject's copy on the running suite: an account with contacts, an interaction with a note, an
attachment and a scratch pad, a callback, a follow-up and an alert; ``icsuite privacy export`` collects all
of it into one zip, records the export in identity's audit log, and refuses anyone but an administrator."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import timedelta

import httpx
import pytest

from icsuite_chassis.testing import eventually, publish_envelopes, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded, ContactStarted
from icsuite_tools.cli import main as icsuite

from e2e_report import REPORT
from e2e_steps import headers, now, poll_json, replicate_customer

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")


async def _call_with_the_account(suite, client, customer, agent: str) -> tuple[str, str]:
    """A call from the customer's number to ``agent``, confirmed; the contact and its interaction."""
    contact, t0, as_agent = unique("contact"), now(), headers(suite, agent, "agent")
    await publish_envelopes(suite.kafka_bootstrap, *(new_envelope(e, source="/cti", correlation_id=contact) for e in [
        ContactStarted(contact_id=contact, channel="phone", direction="inbound", from_address=customer.phone,
                       to_address="+493011880", queue="billing", started_at=t0),
        ContactSegmentRecorded(contact_id=contact, segment_id=f"{contact}-1", kind="agent", agent_id=agent,
                               started_at=t0)]))
    context_url = suite.url("identity", f"/v1/contacts/{contact}/context")
    await poll_json(client, context_url, as_agent, lambda b: b.get("account_id") == customer.account_id
                    and agent in b.get("agent_ids", []))
    r = await client.put(context_url, headers=as_agent, json={"account_id": customer.account_id})
    assert r.status_code == 200, r.text
    page = await poll_json(client, suite.url("interactions", f"/v1/interactions?contact_id={contact}"), as_agent,
                           lambda b: b["items"] and b["items"][0].get("account_id") == customer.account_id)
    return contact, page["items"][0]["interaction_id"]


async def _personal_data(suite, client, customer) -> dict[str, str]:
    """Everything personal the test puts into the suite for the account, by what it is."""
    agent = unique("agent")
    as_agent = headers(suite, agent, "agent")
    contact, interaction_id = await _call_with_the_account(suite, client, customer, agent)
    data = {"contact": contact, "interaction": interaction_id, "note": f"Ratenzahlung {unique('n')}",
            "scratch": f"Zählerstand {unique('s')}", "attachment": f"%PDF-1.4 {unique('pdf')}",
            "followup_note": f"Rückruf zur Rate {unique('f')}", "attribute": unique("meter")}
    record_url = suite.url("interactions", f"/v1/interactions/{interaction_id}")
    for method, path, kwargs in (
            ("POST", "/notes", {"json": {"type": "note", "language": "de", "text": data["note"]}}),
            ("PUT", "/scratch-pad", {"json": {"text": data["scratch"]}}),
            ("POST", "/attachments", {"files": {"file": ("plan.pdf", data["attachment"].encode(), "application/pdf")}})):
        r = await client.request(method, record_url + path, headers=as_agent, **kwargs)
        assert r.status_code in (200, 201), r.text
    r = await client.post(suite.url("followups", "/v1/followups"), headers=as_agent, json={
        "source": {"type": "interaction", "id": interaction_id}, "type": "phone_call", "channel": "phone",
        "account_id": customer.account_id, "due_at": (now() + timedelta(days=7)).isoformat(),
        "notes": [{"type": "preparation", "language": "de", "text": data["followup_note"]}]})
    assert r.status_code == 201, r.text
    data["followup"] = r.json()["followup_id"]
    r = await client.post(suite.url("callbacks", "/v1/callbacks"), headers=headers(suite, "web", "channel"), json={
        "callback_number": customer.phone, "account_id": customer.account_id, "time_zone": "Europe/Berlin",
        "language": "de", "channel": "web", "attributes": {"meter": data["attribute"]}})
    assert r.status_code == 202, r.text
    data["callback"] = r.json()["callback_id"]
    supervisor = headers(suite, "sup-1", "supervisor")
    await poll_json(client, suite.url("callbacks", f"/v1/callbacks/{data['callback']}"), supervisor,
                    lambda b: b.get("account_id") == customer.account_id)
    alerts = await poll_json(client, suite.url("alerts", f"/v1/alerts?account_id={customer.account_id}"), supervisor,
                             lambda b: bool(b["items"]), timeout=90)
    data["alert"] = alerts["items"][0]["alert_id"]
    return data


def _export(suite, account_id: str, out: str, token: str, monkeypatch) -> dict:
    for service in SERVICES:
        monkeypatch.setenv(f"IC_{service.upper()}_URL", suite.url(service))
    capture = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", capture)
        code = icsuite(["privacy", "export", account_id, "--out", out, "--token", token, "--json", "--timeout", "30"])
    assert code == 0, capture.getvalue()
    return json.loads(capture.getvalue())


async def test_the_export_holds_every_piece_of_the_accounts_personal_data(suite, tmp_path, monkeypatch) -> None:
    customer = await replicate_customer(suite, dunning_level=2)
    admin_sub = unique("admin")
    admin = headers(suite, admin_sub, "admin")
    async with httpx.AsyncClient(timeout=15) as client:
        data = await _personal_data(suite, client, customer)
        out = str(tmp_path / "export.zip")
        token = admin["Authorization"].split()[1]
        manifest = await asyncio.to_thread(_export, suite, customer.account_id, out, token, monkeypatch)

        with zipfile.ZipFile(out) as archive:
            names = set(archive.namelist())
            files = {name: archive.read(name) for name in names}
        assert {"manifest.json", *(f"{s}.json" for s in SERVICES)} <= names
        text = {s: files[f"{s}.json"].decode() for s in SERVICES}
        for piece in ("Erika Muster", customer.phone, customer.email, "Hauptstr. 5", "10115",
                      customer.business_agreement_id, customer.premise_id, data["contact"]):
            assert piece in text["identity"], piece
        for piece in (data["interaction"], data["note"], data["scratch"], "plan.pdf", data["contact"]):
            assert piece in text["interactions"], piece
        for piece in (data["callback"], customer.phone, data["attribute"]):
            assert piece in text["callbacks"], piece
        for piece in (data["followup"], data["followup_note"]):
            assert piece in text["followups"], piece
        assert data["alert"] in text["alerts"]
        [attachment] = manifest["attachments"]
        assert files[attachment["file"]] == data["attachment"].encode()
        assert attachment["sha256"] == attachment["stored_sha256"] and not attachment["content_missing"]

        stored = json.loads(files["manifest.json"])
        assert stored["account_id"] == customer.account_id and stored["requested_by"] == admin_sub
        for entry in stored["files"]:
            assert len(files[entry["name"]]) == entry["bytes"], entry["name"]
        counts = {s: stored["services"][s]["counts"] for s in SERVICES}
        assert (counts["identity"]["accounts"], counts["interactions"]["interactions"],
                counts["callbacks"]["work_items"], counts["followups"]["followups"]) == (1, 1, 1, 1)
        assert counts["alerts"]["alerts"] >= 1 and counts["alerts"]["event_log"] >= 1

        # who asked, when and what: in identity's audit log before the archive was handed out
        record = (await client.get(suite.url("identity", f"/v1/privacy/exports/{stored['export_id']}"),
                                   headers=admin)).json()
        assert record["requested_by"] == admin_sub and record["account_id"] == customer.account_id
        assert {f["name"]: f.get("counts", {}) for f in record["files"]}["alerts.json"] == counts["alerts"]
        audit = await client.get(suite.url("identity", "/v1/audit"), headers=admin,
                                 params={"account_id": customer.account_id, "actor": admin_sub})
        assert stored["export_id"] in [e["audit_id"] for e in audit.json()["items"] if e["action"] == "export"]
        for service in SERVICES:  # and each service's own log shows the read of its data, with the counts
            async def read(service=service) -> list | None:
                r = await client.get(suite.url(service, "/v1/audit"), headers=admin,
                                     params={"account_id": customer.account_id, "actor": admin_sub})
                found = [e for e in r.json()["items"] if e["route"] == "/v1/privacy/accounts/{account_id}/data"]
                return found or None
            [entry] = await eventually(read, timeout=30)
            assert entry["action"] == "export" and entry["details"]["counts"] == counts[service]

        as_agent = headers(suite, "a-1", "agent")
        for service in SERVICES:
            r = await client.get(suite.url(service, f"/v1/privacy/accounts/{customer.account_id}/data"),
                                 headers=as_agent)
            assert r.status_code == 403, (service, r.status_code)
        r = await client.post(suite.url("identity", "/v1/privacy/exports"), headers=as_agent,
                              json={"account_id": customer.account_id, "files": []})
        assert r.status_code == 403
    REPORT["subject export"] = {"files": len(names), "bytes": sum(len(v) for v in files.values()),
                                **{f"{s} documents": sum(counts[s].values()) for s in SERVICES}}
