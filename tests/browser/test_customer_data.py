"""An administrator erases a customer's account from the customer-data page and sees every service confirm;
an agent is refused the page (Chromium against the real suite)."""

from __future__ import annotations

import httpx
import pytest

from icsuite_chassis.testing import unique

from browser_steps import assert_accessible, screenshot, sign_in
from e2e_steps import headers, replicate_customer

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")


async def test_an_administrator_erases_an_account_and_sees_every_service_confirm(browser_suite, new_page) -> None:
    customer = await replicate_customer(browser_suite, dunning_level=0)
    page = await new_page()
    await sign_in(page, unique("admin"), role="admin")
    await page.get_by_role("link", name="Customer data").click()
    await page.get_by_role("heading", name="Customer data").first.wait_for()
    await assert_accessible(page)
    await page.get_by_label("Account id").fill("no-such-account")
    await page.get_by_label("Account id").press("Enter")
    problem = page.get_by_test_id("problem")
    await problem.wait_for()
    assert "no-such-account" in await problem.inner_text()
    await page.get_by_role("button", name="Dismiss").click()
    await page.get_by_label("Account id").fill(customer.account_id)
    await page.get_by_role("button", name="Request erasure").click()
    erasure = page.get_by_test_id("erasure")
    await erasure.wait_for()
    assert customer.account_id in await erasure.inner_text()
    # no reload: the status refreshes itself until all five services have confirmed
    await page.locator("[data-testid=erasure][data-status=completed]").wait_for(timeout=60_000)
    rows = page.locator("[data-testid=erasure-services] tr[data-service]")
    assert sorted(await rows.evaluate_all("rs => rs.map(r => r.dataset.service)")) == sorted(SERVICES)
    assert await page.locator("[data-testid=erasure-services] tr[data-status=erased]").count() == 5
    await assert_accessible(page)
    await screenshot(page, "desktop-customer-data")
    erasure_id = await erasure.get_attribute("data-erasure-id")
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(browser_suite.url("identity", f"/v1/privacy/erasures/{erasure_id}"),
                             headers=headers(browser_suite, "a", "admin"))
    assert r.json()["status"] == "completed" and r.json()["account_id"] == customer.account_id


async def test_an_agent_is_refused_the_customer_data_page(browser_suite, new_page) -> None:
    page = await new_page()
    await sign_in(page, unique("agent"))
    assert await page.get_by_role("link", name="Customer data").count() == 0
    response = await page.goto("/admin/customer-data")
    assert response.status == 403
    assert "Forbidden" in await page.get_by_role("heading", level=1).first.inner_text() or \
        "Forbidden" in await page.content()
    await assert_accessible(page)
