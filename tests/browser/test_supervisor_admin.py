"""The supervisor sees a breached callback; an administrator is refused a broken rule, then backtests and
enables a good one (Chromium against the real suite)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from icsuite_chassis.testing import unique

from browser_steps import assert_accessible, overhang_of_its_card, screenshot, sign_in
from e2e_steps import headers, new_phone, now, poll_json

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def breaching_callback(browser_suite) -> dict:
    """A callback whose one-minute service level runs out while the other tests of this module run."""
    admin = headers(browser_suite, "admin-1", "admin")
    reason = unique("urgent")[:60]
    async with httpx.AsyncClient(timeout=15) as client:
        r = await client.put(browser_suite.url("callbacks", f"/v1/reason-profiles/{reason}"), headers=admin,
                             json={"task_type": "callback", "priority": 5, "sla_minutes": 1, "queue": "urgent"})
        assert r.status_code in (200, 201), r.text
        channel = headers(browser_suite, "web", "channel")
        request = {"callback_number": new_phone(), "reason_code": reason, "channel": "web",
                   "preferred_to": (now() + timedelta(hours=2)).isoformat()}
        r = await client.post(browser_suite.url("callbacks", "/v1/callbacks"), headers=channel, json=request)
        assert r.status_code == 202, r.text
        callback_id = r.json()["callback_id"]
        item = await poll_json(client, browser_suite.url("callbacks", f"/v1/callbacks/{callback_id}"), admin,
                               lambda b: b["status"] == "queued")
    return item


async def test_an_administrator_is_refused_a_broken_rule_then_backtests_and_enables_a_good_one(
        browser_suite, new_page, breaching_callback) -> None:
    page = await new_page()
    await sign_in(page, unique("admin"), role="admin")
    await page.get_by_test_id("rules").wait_for()
    await assert_accessible(page)
    await page.get_by_role("link", name="New rule").click()
    name = unique("Dunning level 3")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Condition").fill("fact.dunning_level >= 3")
    await page.get_by_role("button", name="Create rule").click()
    error = page.get_by_test_id("error-condition")
    await error.wait_for()
    assert "fact" in await error.inner_text()
    assert await page.get_by_label("Condition").get_attribute("aria-invalid") == "true"
    await assert_accessible(page)
    await screenshot(page, "desktop-rule-refused")
    await page.get_by_label("Condition").fill("facts.dunning_level >= 3")
    await page.get_by_role("button", name="Run backtest").click()
    await page.get_by_test_id("backtest-count").wait_for()
    await page.get_by_role("button", name="Create rule").click()
    await page.get_by_test_id("rule-state").filter(has_text="disabled").wait_for()
    await page.get_by_role("button", name="Enable").click()
    await page.get_by_test_id("rule-state").filter(has_text="enabled").wait_for()
    assert "version 2" in await page.get_by_test_id("rule-message").inner_text()
    await screenshot(page, "desktop-rule")
    async with httpx.AsyncClient(timeout=10) as client:
        rules = (await client.get(browser_suite.url("alerts", "/v1/rules?limit=200"),
                                  headers=headers(browser_suite, "a", "admin"))).json()["items"]
    (rule,) = [r for r in rules if r["name"] == name]
    assert rule["enabled"] is True and rule["condition"] == "facts.dunning_level >= 3" and rule["version"] == 2


async def _completed_record(browser_suite, agent_id: str, outcome: str, reason: str) -> None:
    agent = headers(browser_suite, agent_id, "agent")
    async with httpx.AsyncClient(timeout=15) as client:
        r = await client.post(browser_suite.url("interactions", "/v1/interactions"), headers=agent,
                              json={"channel": "walk_in", "account_id": unique("acc")})
        assert r.status_code == 201, r.text
        r = await client.post(browser_suite.url("interactions", f"/v1/interactions/{r.json()['interaction_id']}"
                                                                "/complete"),
                              headers=agent, json={"outcome": outcome, "reason_code": reason})
        assert r.status_code == 200, r.text


async def test_a_supervisor_sees_a_breached_callback(browser_suite, new_page, breaching_callback) -> None:
    """The breached callback among the due ones, its queue counted, today's records by outcome and reason,
    the open work by agent; the callbacks section follows a claim made elsewhere without a reload."""
    outcome, reason, agent_id = unique("resolved")[:60], unique("billing")[:60], unique("agent")
    await _completed_record(browser_suite, agent_id, outcome, reason)
    due = datetime.fromisoformat(breaching_callback["due_at"])
    await asyncio.sleep(max(0.0, (due - now()).total_seconds()) + 0.5)
    page = await new_page()
    await sign_in(page, unique("supervisor"), role="supervisor")
    if "/supervisor" not in page.url:
        await page.goto("/supervisor")
    callback_id, queue = breaching_callback["callback_id"], breaching_callback["queue"]
    row = page.locator(f"[data-testid=supervisor-inbox] tr[data-callback-id='{callback_id}']")
    await row.wait_for()
    assert await row.get_attribute("data-sla") == "breached"
    assert "breached" in await row.inner_text()
    queued = page.locator(f"[data-testid=callback-counts] tr[data-queue='{queue}'] td[data-status=queued]")
    assert int(await queued.inner_text()) >= 1
    assert await page.get_by_test_id("today-by-outcome").locator(f"tr[data-code='{outcome}']").count() == 1
    assert await page.get_by_test_id("today-by-reason").locator(f"tr[data-code='{reason}']").count() == 1
    assert await page.get_by_test_id("team").locator(f"tr[data-agent-id='{agent_id}']").count() == 0
    await assert_accessible(page)
    assert page.viewport_size == {"width": 1366, "height": 768}
    assert await overhang_of_its_card(page.get_by_test_id("supervisor-inbox")) < 1  # every column inside the card
    await screenshot(page, "desktop-supervisor")
    claimer = unique("agent")
    async with httpx.AsyncClient(timeout=15) as client:
        r = await client.post(browser_suite.url("callbacks", f"/v1/callbacks/{callback_id}/claim"),
                              headers=headers(browser_suite, claimer, "agent"))
        assert r.status_code == 200, r.text
    await row.filter(has_text=f"claimed ({claimer})").wait_for(timeout=30_000)
    assert await overhang_of_its_card(page.get_by_test_id("supervisor-inbox")) < 1  # with the claimer's id too
    team_row = page.get_by_test_id("team").locator(f"tr[data-agent-id='{claimer}']")
    await team_row.wait_for(timeout=45_000)
    assert await team_row.locator("td[data-count=claimed]").inner_text() == "1"
    await assert_accessible(page)


async def test_an_administrator_customizes_follow_ups_and_every_admin_page_is_accessible(
        browser_suite, new_page) -> None:
    page = await new_page()
    await page.goto("/signin")
    await assert_accessible(page)
    await sign_in(page, unique("admin"), role="admin")
    await page.get_by_role("link", name="Reason profiles").click()
    await page.get_by_role("heading", name="Reason profiles").first.wait_for()
    await assert_accessible(page)
    await page.get_by_role("link", name="Follow-up types").click()
    await page.get_by_role("button", name="Save the permitted types").click()
    await page.get_by_test_id("types-message").wait_for()
    await assert_accessible(page)
    await page.get_by_role("link", name="Copy rules").click()
    box = page.get_by_label("copy premise id from complaint")
    await box.set_checked(not await box.is_checked())
    wanted = await box.is_checked()
    await page.get_by_label("note types copied from complaint (comma-separated)").fill("note, report")
    await page.get_by_role("button", name="Save the copy rules").click()
    await page.get_by_test_id("copy-rules-message").wait_for()
    await assert_accessible(page)
    await screenshot(page, "desktop-copy-rules")
    async with httpx.AsyncClient(timeout=10) as client:
        rules = (await client.get(browser_suite.url("followups", "/v1/config/copy-rules"),
                                  headers=headers(browser_suite, "a", "admin"))).json()
    complaint = rules["source_types"]["complaint"]
    assert ("premise_id" in complaint["fields"]) is wanted and complaint["note_types"] == ["note", "report"]
