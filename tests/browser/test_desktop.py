"""The agent desktop in Chromium against the real suite: sign-in, a call that arrives live, the callback
inbox, and another agent's work refused with the problem's title and detail."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from icsuite_chassis.testing import eventually, publish_envelopes, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded, ContactStarted

from browser_steps import assert_accessible, screenshot, sign_in
from e2e_steps import headers, new_phone, now, poll_json, replicate_customer

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def _call_routed_to(suite, agent: str, phone: str) -> str:
    contact, t0 = unique("contact"), now()
    await publish_envelopes(suite.kafka_bootstrap, *(new_envelope(e, source="/cti", correlation_id=contact) for e in [
        ContactStarted(contact_id=contact, channel="phone", direction="inbound", from_address=phone,
                       to_address="+493011880", queue="billing", started_at=t0),
        ContactSegmentRecorded(contact_id=contact, segment_id=f"{contact}-1", kind="queue", queue="billing",
                               started_at=t0, ended_at=t0 + timedelta(seconds=5)),
        ContactSegmentRecorded(contact_id=contact, segment_id=f"{contact}-2", kind="agent", agent_id=agent,
                               started_at=t0 + timedelta(seconds=5)),
    ]))
    return contact


async def _facts_known(suite, account_id: str, dunning_level: int) -> None:
    """Wait until the alerts service has the account's replicated facts (its own consumer of ic.masterdata.v1)."""
    async with httpx.AsyncClient(timeout=10) as client:
        await poll_json(client, suite.url("alerts", f"/v1/accounts/{account_id}/facts"),
                        headers(suite, "setup", "supervisor"),
                        lambda b: b["facts"].get("dunning_level") == dunning_level, timeout=60)


async def test_a_call_shows_the_identified_caller_and_the_dunning_alert_live(browser_suite, new_page) -> None:
    customer = await replicate_customer(browser_suite, dunning_level=2)
    await _facts_known(browser_suite, customer.account_id, 2)
    agent = unique("agent")
    page = await new_page()
    await sign_in(page, agent)
    await page.get_by_test_id("no-contact").wait_for()
    await assert_accessible(page)
    contact = await _call_routed_to(browser_suite, agent, customer.phone)
    # no reload from here on: the contact, the account and the alert arrive in the open page
    identification = page.get_by_test_id("identification")
    await identification.filter(has_text=customer.account_id).wait_for(timeout=30_000)
    assert customer.phone in await page.get_by_test_id("from-address").inner_text()
    await page.get_by_test_id("account-name").filter(has_text="Erika Muster").wait_for()
    alert = page.get_by_test_id("alerts").locator("[data-testid=alert][data-rule=std-dunning-level]")
    await alert.wait_for(timeout=90_000)  # as tests/integration waits for the stream under load
    assert customer.account_id in await alert.inner_text()
    assert await page.get_by_test_id("dunning-level").first.inner_text() == "2"
    await screenshot(page, "desktop-contact")
    # the agent confirms agreement and premise into the contact's context
    await page.get_by_role("button", name="Confirm for this contact").click()
    await page.get_by_test_id("confirmed").wait_for()
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(browser_suite.url("identity", f"/v1/contacts/{contact}/context"),
                             headers=headers(browser_suite, agent, "agent"))
    body = r.json()
    assert body["confirmed"] is True and body["business_agreement_id"] == customer.business_agreement_id
    assert body["premise_id"] == customer.premise_id
    # acknowledging the alert
    await alert.get_by_role("button", name="Acknowledge").click()
    await alert.get_by_text("acknowledged").wait_for()
    await assert_accessible(page)
    await _work_the_record(page, customer.account_id)


async def _work_the_record(page, account_id: str) -> None:
    """Seed 002's end: a note, a follow-up with the scratch pad imported, completion, the history."""
    await page.get_by_test_id("current-contact").get_by_role("link").click()
    record = page.get_by_test_id("record")
    await record.wait_for()
    await page.get_by_label("Note", exact=True).fill("Ratenzahlung besprochen")
    await page.get_by_role("button", name="Add note").click()
    await page.get_by_test_id("notes").get_by_text("Ratenzahlung besprochen").wait_for()
    await page.get_by_label("Scratch pad text").fill("Kunde zahlt ab Januar 50 EUR")
    await page.get_by_role("button", name="Save the scratch pad").click()
    await page.get_by_test_id("record-message").filter(has_text="Scratch pad saved").wait_for()
    await page.get_by_label("Import the scratch pad as a note").check()
    await page.get_by_label("Follow-up due").fill("2026-12-20T09:30")
    await page.get_by_label("Follow-up reason").fill("payment_plan")
    await page.get_by_role("button", name="Create follow-up").click()
    await page.get_by_test_id("record-message").filter(has_text="Follow-up").wait_for()
    assert await page.get_by_test_id("followup-item").count() == 1
    assert await page.get_by_test_id("display-area").count() == 1, "listed under the display area the service names"
    await assert_accessible(page)
    await screenshot(page, "desktop-record")
    await _edit_the_followup(page)
    await page.get_by_label("Outcome").fill("resolved")
    await page.get_by_role("button", name="Complete the record").click()
    await page.locator("[data-testid=record][data-status=closed]").wait_for()
    assert await page.get_by_role("button", name="Add note").count() == 0, "a closed record is read-only"
    row = await _history_shows_closed(page, account_id)
    assert "resolved" in await row.inner_text()
    await page.get_by_label("Status").select_option("open")
    await page.get_by_role("button", name="Filter").click()
    await page.get_by_test_id("history").get_by_text("No interaction matches").wait_for()
    await assert_accessible(page)
    await screenshot(page, "desktop-history")


async def _history_shows_closed(page, account_id: str):
    """The account's history (the timeline, a read model fed by the record's events) shows the completed
    record as closed once its event has been applied: the page is opened again until it does, bounded."""
    async def closed():
        await page.goto(f"/accounts/{account_id}/history")
        return "closed" in await page.get_by_test_id("history").locator("tbody tr").first.inner_text()
    await eventually(closed, timeout=30, interval=0.5)
    return page.get_by_test_id("history").locator("tbody tr").first


async def _edit_the_followup(page) -> None:
    """The follow-up's page: the scratch pad imported into its notes history, a change, a note added."""
    record_url = page.url
    await page.get_by_test_id("followup-item").get_by_role("link").click()
    notes = page.get_by_test_id("followup-notes")
    await notes.get_by_text("Kunde zahlt ab Januar 50 EUR").wait_for()
    await page.get_by_label("Status").select_option("in_process")
    await page.get_by_role("button", name="Save the follow-up").click()
    await page.locator("[data-testid=followup][data-status=in_process]").wait_for()
    await page.get_by_label("Note text").fill("Rückruf am 20. vereinbart")
    await page.get_by_role("button", name="Add to the history").click()
    await notes.get_by_text("Rückruf am 20. vereinbart").wait_for()
    assert "Rückruf am 20." in await notes.locator("li").last.inner_text(), "appended to the history"
    assert await notes.get_by_text("Kunde zahlt ab Januar 50 EUR").count() == 1, "the imported note stays"
    await assert_accessible(page)
    await screenshot(page, "desktop-followup")
    await page.goto(record_url)
    await page.get_by_test_id("record").wait_for()


async def test_an_account_created_for_an_unknown_caller_warns_of_a_duplicate(browser_suite, new_page) -> None:
    existing = await replicate_customer(browser_suite, dunning_level=0)
    agent, caller = unique("agent"), new_phone()
    page = await new_page()
    await sign_in(page, agent)
    await page.get_by_test_id("no-contact").wait_for()
    contact = await _call_routed_to(browser_suite, agent, caller)
    await page.get_by_test_id("identification").filter(has_text="not identified").wait_for(timeout=30_000)
    await page.get_by_text("Create an account").click()
    await page.get_by_label("Account name").fill("Erika Neu")
    await page.get_by_label("Phone number").fill(caller)
    await page.get_by_label("E-mail address").fill(existing.email)
    await page.get_by_role("button", name="Create the account").click()
    warning = page.get_by_test_id("duplicate-warning")
    await warning.wait_for()
    assert existing.account_id in await warning.inner_text()
    await assert_accessible(page)
    await screenshot(page, "desktop-duplicate")
    await warning.get_by_role("button", name="Create anyway").click()
    created = page.get_by_test_id("account-created")
    await created.wait_for()
    assert contact in await created.inner_text()
    await page.get_by_test_id("account-name").filter(has_text="Erika Neu").wait_for()
    await page.get_by_test_id("confirmed").wait_for()
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(browser_suite.url("identity", f"/v1/contacts/{contact}/context"),
                             headers=headers(browser_suite, agent, "agent"))
    assert r.json()["confirmed"] is True and r.json()["account_id"] not in (None, existing.account_id)


async def _queued_callback(suite, phone: str, reason: str, priority: int, attributes: dict[str, str]) -> str:
    admin = headers(suite, "admin-1", "admin")
    async with httpx.AsyncClient(timeout=15) as client:
        r = await client.put(suite.url("callbacks", f"/v1/reason-profiles/{reason}"), headers=admin, json={
            "task_type": "billing_callback", "priority": priority, "sla_minutes": 30, "queue": "billing"})
        assert r.status_code in (200, 201), r.text
        r = await client.post(suite.url("callbacks", "/v1/callbacks"), headers=headers(suite, "web", "channel"), json={
            "callback_number": phone, "reason_code": reason, "time_zone": "Europe/Berlin", "language": "de",
            "channel": "web", "preferred_from": now().isoformat(),
            "preferred_to": (now() + timedelta(hours=4)).isoformat(), "attributes": attributes})
        assert r.status_code == 202, r.text
        callback_id = r.json()["callback_id"]
        await poll_json(client, suite.url("callbacks", f"/v1/callbacks/{callback_id}"), admin,
                        lambda b: b["status"] == "queued")
    return callback_id


async def test_the_callback_inbox_claim_start_and_complete(browser_suite, new_page) -> None:
    customer = await replicate_customer(browser_suite, dunning_level=0)
    reason = unique("payment_plan")[:60]
    callback_id = await _queued_callback(browser_suite, customer.phone, reason, 1000,
                                         {"topic": "payment arrangement", "web_form": "contact-us"})
    agent = unique("agent")
    page = await new_page()
    await sign_in(page, agent)
    await page.get_by_role("link", name="Callbacks").click()
    await page.locator(f"[data-testid=general-inbox] tr[data-callback-id='{callback_id}']").wait_for()
    await assert_accessible(page)
    await page.get_by_test_id("claim-next").click()
    item = page.locator(f"[data-testid=callback][data-callback-id='{callback_id}']")
    await item.wait_for()
    assert await item.get_attribute("data-status") == "claimed"
    assert await item.get_by_test_id("number-to-dial").inner_text() == customer.phone
    assert reason in await item.get_by_test_id("reason").inner_text()
    attributes = await item.get_by_test_id("attributes").inner_text()
    assert "payment arrangement" in attributes and "contact-us" in attributes
    await screenshot(page, "desktop-callbacks")
    await item.get_by_role("button", name="Start").click()
    await page.locator(f"[data-testid=callback][data-callback-id='{callback_id}'][data-status=in_progress]").wait_for()
    await page.get_by_label("Outcome").fill("reached")
    await page.get_by_role("button", name="Complete").click()
    await page.get_by_test_id("inbox-message").filter(has_text="Completed").wait_for()
    assert await item.count() == 0
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(browser_suite.url("callbacks", f"/v1/callbacks/{callback_id}"),
                             headers=headers(browser_suite, agent, "agent"))
    assert r.json()["status"] == "completed" and r.json()["outcome"] == "reached"


async def test_an_agent_is_refused_another_agents_callback(browser_suite, new_page) -> None:
    customer = await replicate_customer(browser_suite, dunning_level=0)
    callback_id = await _queued_callback(browser_suite, customer.phone, unique("other")[:60], 1, {})
    owner, intruder = unique("agent"), unique("agent")
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(browser_suite.url("callbacks", f"/v1/callbacks/{callback_id}/claim"),
                              headers=headers(browser_suite, owner, "agent"))
        assert r.status_code == 200, r.text
    page = await new_page()
    await sign_in(page, intruder)
    await page.goto(f"/callbacks/{callback_id}")
    await page.get_by_role("button", name="Start").click()
    problem = page.get_by_test_id("problem")
    await problem.wait_for()
    assert await problem.get_attribute("data-status") == "403"
    assert await problem.locator(".problem-title").inner_text() == "Forbidden"
    assert (await problem.locator(".problem-detail").inner_text()).strip()
    await screenshot(page, "desktop-refused")
    await assert_accessible(page)
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(browser_suite.url("callbacks", f"/v1/callbacks/{callback_id}"),
                             headers=headers(browser_suite, owner, "agent"))
    assert r.json()["status"] == "claimed" and r.json()["agent_id"] == owner
