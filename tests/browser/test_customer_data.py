"""The customer-data area in Chromium against the real suite: an administrator erases an account and sees
every service confirm, downloads a customer's data-subject export and opens its record; a supervisor merges
a likely duplicate pair and undoes it; agents and supervisors are refused what is not theirs."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import httpx
import pytest

from icsuite_chassis.testing import publish_envelopes, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.masterdata_v1 import AccountUpserted, Address

from browser_steps import assert_accessible, screenshot, sign_in
from e2e_steps import headers, new_phone, poll_json, replicate_customer, uuid_digits

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


async def _two_accounts_with_one_number(suite) -> tuple[str, str]:
    """Two replicated accounts sharing a number: a likely duplicate pair, in id order."""
    phone, ids = new_phone(), sorted([unique("acc"), unique("acc")])
    address = Address(street=f"Birkenweg {uuid_digits(5)}", postcode="20095", city="Hamburg", country="DE")
    await publish_envelopes(suite.kafka_bootstrap, *(new_envelope(AccountUpserted(
        account_id=account_id, source_version=1, kind="person", name=name, phones=[phone], emails=[],
        address=address), source="/erp") for account_id, name in zip(ids, ("Jonas Beispiel", "Jonas Bei-Spiel"))))
    async with httpx.AsyncClient(timeout=10) as client:
        for account_id in ids:
            await poll_json(client, suite.url("identity", f"/v1/accounts/{account_id}"),
                            headers(suite, "setup", "agent"), lambda body: body["account_id"])
    return ids[0], ids[1]


async def _find_pair_row(page, first: str, second: str):
    """The pair's row on the duplicates list, following "More pairs" (the list is in lookup-key order)."""
    row = page.locator(f"tr[data-accounts='{first} {second}']")
    for _ in range(20):
        if await row.count():
            return row
        more = page.get_by_role("link", name="More pairs")
        if not await more.count():
            break
        await more.click()
        await page.get_by_test_id("duplicates").wait_for()
    raise AssertionError(f"the pair {first}, {second} is not on the duplicates list")


async def test_a_supervisor_merges_a_duplicate_pair_and_undoes_it(browser_suite, new_page) -> None:
    kept, merged = await _two_accounts_with_one_number(browser_suite)
    page = await new_page()
    await sign_in(page, unique("supervisor"), role="supervisor")
    await page.get_by_role("link", name="Customer data").click()
    await page.get_by_role("heading", name="Likely duplicates").wait_for()
    assert await page.get_by_role("link", name="Data-subject export").count() == 0, "exports are for administrators"
    await assert_accessible(page)
    row = await _find_pair_row(page, kept, merged)
    assert "the same number" in await row.inner_text()
    await row.get_by_role("button", name=f"Keep {kept}, merge {merged} into it").click()
    merge = page.locator("#merge-result [data-testid=merge][data-status=merged]")
    await merge.wait_for()
    merge_id = await merge.get_attribute("data-merge-id")
    await assert_accessible(page)
    await screenshot(page, "desktop-duplicates")
    async with httpx.AsyncClient(timeout=10) as client:
        as_supervisor = headers(browser_suite, "s", "supervisor")
        found = (await client.get(browser_suite.url("identity", f"/v1/merges/{merge_id}"), headers=as_supervisor)).json()
        assert (found["target_account_id"], found["source_account_id"], found["status"]) == (kept, merged, "merged")
        await page.get_by_role("button", name="Undo the merge").click()
        await page.locator(f"[data-testid=merge][data-merge-id='{merge_id}'][data-status=unmerged]").wait_for()
        found = (await client.get(browser_suite.url("identity", f"/v1/merges/{merge_id}"), headers=as_supervisor)).json()
    assert found["status"] == "unmerged"
    # merging the account into itself, or an unknown account, is refused with the problem's title and detail
    await page.get_by_label("Account to keep").fill(kept)
    await page.get_by_label("Account to merge into it").fill("no-such-account")
    await page.get_by_role("button", name="Merge", exact=True).click()
    problem = page.get_by_test_id("problem")
    await problem.wait_for()
    assert "no-such-account" in await problem.inner_text()
    await assert_accessible(page)


async def test_an_administrator_downloads_a_customers_export_and_opens_its_record(browser_suite, new_page) -> None:
    customer = await replicate_customer(browser_suite, dunning_level=0)
    page = await new_page()
    await sign_in(page, unique("admin"), role="admin")
    await page.goto("/admin/customer-data")
    await page.get_by_role("link", name="Data-subject export").click()
    await page.get_by_role("heading", name="Export an account").wait_for()
    await assert_accessible(page)
    await page.get_by_label("Account id").fill(customer.account_id)
    async with page.expect_download() as started:
        await page.get_by_role("button", name="Download the export").click()
    download = await started.value
    assert download.suggested_filename == f"export-{customer.account_id}.zip"
    archive = zipfile.ZipFile(io.BytesIO(Path(await download.path()).read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    assert sorted(manifest["services"]) == sorted(SERVICES) and manifest["account_id"] == customer.account_id
    identity = json.loads(archive.read("identity.json"))
    assert customer.phone in json.dumps(identity["sections"]["accounts"])
    assert identity["counts"]["business_agreements"] == 1 and identity["counts"]["premises"] == 1
    await page.get_by_label("Export id").fill(manifest["export_id"])
    await page.get_by_role("button", name="Open").click()
    record = page.get_by_test_id("export-record")
    await record.wait_for()
    assert customer.account_id in await record.inner_text()
    files = page.locator("[data-testid=export-files] tr[data-file]")
    assert sorted(await files.evaluate_all("rs => rs.map(r => r.dataset.file)")) == sorted(archive.namelist()[1:])
    await assert_accessible(page)
    await screenshot(page, "desktop-export")


async def test_a_supervisor_is_refused_the_export_and_erasure_pages(browser_suite, new_page) -> None:
    page = await new_page()
    await sign_in(page, unique("supervisor"), role="supervisor")
    for path in ("/admin/customer-data/exports", "/admin/customer-data"):
        response = await page.goto(path)
        assert response.status == 403 and "Forbidden" in await page.content()
    await assert_accessible(page)
