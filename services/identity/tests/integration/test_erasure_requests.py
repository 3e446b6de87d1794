"""Erasure requests at identity's gateway: administrators only, one open erasure per account, progress per
service, and identity's own part (the account anonymised, its confirmation on the topic)."""

import pytest
from icsuite_chassis.testing import bearer, eventually, header, read_topic, unique
from icsuite_contracts.privacy_v1 import TOPIC as PRIVACY

pytestmark = pytest.mark.integration
ADMIN = bearer("admin-1", "admin")


async def test_an_administrator_requests_an_erasure_and_identity_erases_its_part(identity):
    account_id, phone = unique("acc"), identity.random_phone()
    await identity.publish(identity.account_snapshot(account_id, 1, name="Zora Löschmich", phones=[phone[0]]))
    await identity.account_version(account_id, 1)

    for headers in (identity.agent, bearer("s-1", "supervisor")):
        refused = await identity.client.post("/v1/privacy/erasures", json={"account_id": account_id}, headers=headers)
        assert refused.status_code == 403
    answer = await identity.client.post("/v1/privacy/erasures", json={"account_id": account_id}, headers=ADMIN)
    again = await identity.client.post("/v1/privacy/erasures", json={"account_id": account_id}, headers=ADMIN)
    assert answer.status_code == again.status_code == 202
    erasure_id = answer.json()["erasure_id"]
    assert again.json()["erasure_id"] == erasure_id and answer.json()["status"] == "open"

    async def identity_erased() -> dict | None:
        body = (await identity.client.get(f"/v1/privacy/erasures/{erasure_id}", headers=ADMIN)).json()
        return body if body["services"]["identity"]["status"] == "erased" else None
    body = await eventually(identity_erased, timeout=60)
    assert body["services"]["identity"]["erased"]["accounts"] == 1
    assert body["services"]["interactions"]["status"] == "pending" and body["status"] == "open"
    summary = (await identity.client.get(f"/v1/accounts/{account_id}", headers=identity.agent)).json()
    assert summary["name"] == "[erased]" and "Löschmich" not in str(summary)
    found = await identity.client.get("/v1/accounts/search", params={"phone": phone[0]}, headers=identity.agent)
    assert found.json()["items"] == []
    records = await read_topic(identity.bootstrap, PRIVACY, lambda r: r.key == account_id.encode(), expect=2)
    assert {header(r, "ce_type") for r in records} == {"ic.privacy.erasure-requested.v1", "ic.privacy.erased.v1"}


async def test_unknown_erasures_and_accounts_are_not_found_and_bad_bodies_are_refused(identity):
    assert (await identity.client.get(f"/v1/privacy/erasures/{unique('er')}", headers=ADMIN)).status_code == 404
    missing = await identity.client.post("/v1/privacy/erasures", json={"account_id": unique("acc")}, headers=ADMIN)
    assert missing.status_code == 404
    for body in ({}, {"account_id": ""}, {"account_id": "x" * 129}, {"account_id": "a", "more": 1}):
        assert (await identity.client.post("/v1/privacy/erasures", json=body, headers=ADMIN)).status_code == 422
