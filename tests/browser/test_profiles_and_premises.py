"""An administrator gives a reason profile a language and business hours; an agent finds a premise by its
address, opens it and its business agreement, and confirms it into the current contact (Chromium against the
real suite)."""

from __future__ import annotations

import httpx
import pytest

from icsuite_chassis.testing import publish_envelopes, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded, ContactStarted
from icsuite_contracts.masterdata_v1 import Address, PremiseUpserted

from browser_steps import assert_accessible, screenshot, sign_in
from e2e_steps import headers, new_phone, now, poll_json, replicate_customer, uuid_digits

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_an_administrator_sets_a_profiles_language_and_business_hours(browser_suite, new_page) -> None:
    reason = unique("hours")[:60]
    page = await new_page()
    await sign_in(page, unique("admin"), role="admin")
    await page.get_by_role("link", name="Reason profiles").click()
    await page.get_by_label("Reason code").fill(reason)
    await page.get_by_label("Language").fill("de")
    await page.get_by_label("Time zone").fill("Mars/Olympus")
    await page.get_by_label("Monday").fill("08:00-12:00, 13:00-18:00")
    await page.get_by_role("button", name="Save profile").click()
    problem = page.get_by_role("alert").filter(has_text="Mars/Olympus")
    await problem.wait_for()  # the callbacks service's refusal, with the typed form kept
    assert await page.get_by_label("Monday").input_value() == "08:00-12:00, 13:00-18:00"
    await assert_accessible(page)
    await page.get_by_label("Time zone").fill("Europe/Berlin")
    await page.get_by_label("Saturday").fill("09:00-13:00")
    await page.get_by_role("button", name="Save profile").click()
    await page.get_by_test_id("profile-message").wait_for()
    row = page.get_by_test_id("profiles").get_by_role("row").filter(has_text=reason)
    assert "Europe/Berlin: mon 08:00-12:00, 13:00-18:00; sat 09:00-13:00" in await row.inner_text()
    await assert_accessible(page)
    await screenshot(page, "desktop-reason-profiles")
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(browser_suite.url("callbacks", f"/v1/reason-profiles/{reason}"),
                             headers=headers(browser_suite, "a", "admin"))
    assert r.json()["language"] == "de"
    assert r.json()["business_hours"] == {"time_zone": "Europe/Berlin",
                                          "days": {"mon": [["08:00", "12:00"], ["13:00", "18:00"]],
                                                   "sat": [["09:00", "13:00"]]}}


async def _premise_of_its_own(suite, customer) -> tuple[str, str]:
    """A second premise of the customer at a street no other test uses; its id and street."""
    premise, street = unique("pr"), f"Lindenweg {uuid_digits(6)}"
    await publish_envelopes(suite.kafka_bootstrap, new_envelope(PremiseUpserted(
        premise_id=premise, source_version=1, address=Address(street=street, postcode="10117", city="Berlin",
                                                              country="DE"),
        account_ids=[customer.account_id], business_agreement_ids=[customer.business_agreement_id]), source="/erp"))
    async with httpx.AsyncClient(timeout=10) as client:
        await poll_json(client, suite.url("identity", f"/v1/premises/{premise}"), headers(suite, "setup", "agent"),
                        lambda body: body["premise_id"] == premise)
    return premise, street


async def _unknown_caller_routed_to(suite, agent: str) -> str:
    contact, t0 = unique("contact"), now()
    await publish_envelopes(suite.kafka_bootstrap, *(new_envelope(e, source="/cti", correlation_id=contact) for e in [
        ContactStarted(contact_id=contact, channel="phone", direction="inbound", from_address=new_phone(),
                       to_address="+493011880", queue="billing", started_at=t0),
        ContactSegmentRecorded(contact_id=contact, segment_id=f"{contact}-1", kind="agent", agent_id=agent,
                               started_at=t0)]))
    return contact


async def test_an_agent_finds_a_premise_by_address_and_confirms_it_for_the_contact(browser_suite, new_page) -> None:
    customer = await replicate_customer(browser_suite, dunning_level=0)
    premise, street = await _premise_of_its_own(browser_suite, customer)
    agent = unique("agent")
    page = await new_page()
    await sign_in(page, agent)
    contact = await _unknown_caller_routed_to(browser_suite, agent)
    await page.locator(f"#current-contact[data-contact-id='{contact}']").wait_for(timeout=60_000)
    await page.get_by_role("link", name="Find a premise by its address").click()
    await page.get_by_label("Postcode").fill("10117")
    await page.get_by_label("Street").fill(street)
    await page.get_by_role("button", name="Find premises").click()
    await page.get_by_test_id("premise-results").get_by_role("link", name=premise).click()
    await page.get_by_role("heading", name=f"Premise {premise}").wait_for()
    assert street in await page.get_by_test_id("premise-address").inner_text()
    assert customer.account_id in await page.get_by_test_id("premise-accounts").inner_text()
    await assert_accessible(page)
    await page.get_by_role("link", name=customer.business_agreement_id).click()
    await page.get_by_role("heading", name=f"Business agreement {customer.business_agreement_id}").wait_for()
    await assert_accessible(page)
    await page.get_by_test_id("agreement-premises").get_by_role("link", name=premise).click()
    await page.get_by_role("button", name="Confirm this premise for the contact").click()
    confirmed = page.get_by_test_id("object-confirmed")
    await confirmed.wait_for()
    assert contact in await confirmed.inner_text() and customer.account_id in await confirmed.inner_text()
    await assert_accessible(page)
    await screenshot(page, "desktop-premise")
    async with httpx.AsyncClient(timeout=10) as client:
        context = (await client.get(browser_suite.url("identity", f"/v1/contacts/{contact}/context"),
                                    headers=headers(browser_suite, agent, "agent"))).json()
    assert context["confirmed"] and context["premise_id"] == premise
    assert context["account_id"] == customer.account_id, "derived from the premise's only account"


async def test_a_premise_search_without_postcode_shows_the_problem(browser_suite, new_page) -> None:
    page = await new_page()
    await sign_in(page, unique("agent"))
    await page.goto("/premises")
    await page.get_by_label("Postcode").evaluate("input => input.removeAttribute('required')")
    await page.get_by_label("Street").fill("Lindenweg")
    await page.get_by_role("button", name="Find premises").click()
    problem = page.get_by_test_id("problem")
    await problem.wait_for()
    assert "Postcode needed" in await problem.inner_text()
    await assert_accessible(page)
