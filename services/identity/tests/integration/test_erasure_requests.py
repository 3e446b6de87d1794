"""Erasure requests at identity's gateway: administrators only, one open erasure per account, progress per
service, and identity's own part (the account anonymised, its confirmation on the topic)."""

import pytest
from icsuite_chassis.testing import bearer, eventually, header, read_topic, unique
from datetime import UTC, datetime, timedelta

from icsuite_contracts.cloudevents import derive_event_id, new_envelope
from icsuite_contracts.privacy_v1 import TOPIC as PRIVACY
from icsuite_contracts.privacy_v1 import Erased

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


async def test_a_repeated_confirmation_changes_nothing_and_a_later_one_replaces_it(identity):
    account_id = unique("acc")
    await identity.publish(identity.account_snapshot(account_id, 1, name="Ilse Nochmal"))
    await identity.account_version(account_id, 1)
    erasure_id = (await identity.client.post("/v1/privacy/erasures", json={"account_id": account_id},
                                             headers=ADMIN)).json()["erasure_id"]
    first_at = datetime(2026, 12, 7, 6, 0, 0, 123456, tzinfo=UTC)

    def confirmed(at: datetime, erased: dict[str, int], run: str):
        event = Erased(erasure_id=erasure_id, account_id=account_id, service="alerts", erased=erased, erased_at=at)
        return new_envelope(event, source="/alerts", id=derive_event_id(erasure_id, f"erased:alerts:{run}"))

    async def alerts_says(expected: dict) -> dict | None:
        body = (await identity.client.get(f"/v1/privacy/erasures/{erasure_id}", headers=ADMIN)).json()
        done = body["services"]["alerts"]["erased"] == expected and body["services"]["identity"]["status"] == "erased"
        return body if done else None

    first = confirmed(first_at, {"alerts": 4}, "1")
    await identity.publish(first, first)
    body = await eventually(lambda: alerts_says({"alerts": 4}), timeout=60)
    assert body["services"]["alerts"]["erased_at"].startswith("2026-12-07T06:00:00.123")
    versions = [(await identity.db.erasure_requests.find_one({"_id": erasure_id}))["_version"]]
    # one partition (keyed by the account), so once the last is applied the two before it were too
    await identity.publish(confirmed(first_at.replace(microsecond=123999), {"alerts": 4}, "retry"),
                           confirmed(first_at - timedelta(hours=1), {"alerts": 9}, "0"),
                           confirmed(first_at + timedelta(hours=1), {"alerts": 1}, "2"))
    body = await eventually(lambda: alerts_says({"alerts": 1}), timeout=60)
    assert body["services"]["alerts"]["erased_at"].startswith("2026-12-07T07:00:00.123")
    versions.append((await identity.db.erasure_requests.find_one({"_id": erasure_id}))["_version"])
    assert versions[1] == versions[0] + 1    # the retry at the same stored time and the older one changed nothing
