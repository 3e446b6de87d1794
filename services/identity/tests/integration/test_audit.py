"""The audit log on the real stack: an agent's read of an account is recorded; only administrators read it."""

import pytest
from icsuite_chassis.testing import bearer, eventually, unique

pytestmark = pytest.mark.integration
ADMIN = bearer("admin-1", "admin")


async def _create_account(identity, agent: dict) -> str:
    body = {"kind": "person", "name": f"Audit {unique('n')}", "emails": [f"{unique('m')}@example.org"],
            "allow_duplicate": True}
    response = await identity.client.post("/v1/accounts", json=body, headers=agent)
    assert response.status_code == 201, response.text
    return response.json()["account_id"]


async def _audit(identity, **params) -> dict:
    response = await identity.client.get("/v1/audit", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_agents_read_of_an_account_appears_in_the_audit_log(identity):
    agent_id = unique("a")
    agent = bearer(agent_id, "agent")
    account_id = await _create_account(identity, agent)
    assert (await identity.client.get(f"/v1/accounts/{account_id}", headers=agent)).status_code == 200
    refused = await identity.client.get(f"/v1/accounts/{account_id}", headers=bearer("c-1", "channel"))
    assert refused.status_code == 403

    async def recorded() -> list | None:
        items = (await _audit(identity, account_id=account_id))["items"]
        return items if len(items) == 3 else None
    attempt, read, created = await eventually(recorded)
    assert (read["actor"], read["roles"], read["method"], read["route"], read["action"], read["status"]) == (
        agent_id, ["agent"], "GET", "/v1/accounts/{account_id}", "read", 200)
    assert read["ids"] == {"account_id": account_id} and read["account_ids"] == [account_id]
    assert (created["action"], created["status"], created["route"]) == ("change", 201, "/v1/accounts")
    assert (attempt["actor"], attempt["status"]) == ("c-1", 403)
    assert attempt["at"] >= read["at"] >= created["at"]
    stored = await identity.db.audit.find_one({"_id": read["audit_id"]})
    assert stored is not None and stored["actor"] == agent_id


async def test_only_an_administrator_reads_the_audit_log(identity):
    for roles in (("agent",), ("supervisor",), ("channel",)):
        response = await identity.client.get("/v1/audit", headers=bearer("x-1", *roles))
        assert response.status_code == 403 and response.headers["content-type"] == "application/problem+json"
    assert (await identity.client.get("/v1/audit")).status_code == 401


async def test_the_audit_log_pages_newest_first_with_strict_cursors(identity):
    agent_id = unique("a")
    agent = bearer(agent_id, "agent")
    account_id = await _create_account(identity, agent)
    for _ in range(4):
        assert (await identity.client.get(f"/v1/accounts/{account_id}", headers=agent)).status_code == 200
    await eventually(lambda: _count(identity, actor=agent_id, expected=5))

    seen, cursor, pages = [], None, 0
    while True:
        page = await _audit(identity, actor=agent_id, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len({item["audit_id"] for item in seen}) == 5
    assert [item["at"] for item in seen] == sorted((item["at"] for item in seen), reverse=True)
    assert seen[-1]["action"] == "change"

    newest = seen[0]["at"]
    assert (await _audit(identity, actor=agent_id, **{"from": newest}))["items"][0]["at"] == newest
    assert all(i["at"] < newest for i in (await _audit(identity, actor=agent_id, to=newest))["items"])
    for bad in ("not-a-cursor!", "eyJ0IjoxfQ", "eyJwIjo5OTk5OTk5OTk5OTk5OTk5OTk5OTl9"):
        response = await identity.client.get("/v1/audit", params={"cursor": bad}, headers=ADMIN)
        assert response.status_code == 400 and response.json()["type"].endswith("invalid-cursor")


async def _count(identity, *, actor: str, expected: int) -> bool:
    return len((await _audit(identity, actor=actor, limit=50))["items"]) == expected


async def test_erasure_and_merge_requests_are_in_the_audit_log_with_their_accounts(identity):
    creator = bearer(unique("a"), "agent")
    target, source, erased = [await _create_account(identity, creator) for _ in range(3)]
    admin_id = unique("adm")
    admin = bearer(admin_id, "admin")
    merged = await identity.client.post(f"/v1/accounts/{target}/merges", json={"source_account_id": source},
                                        headers=admin)
    assert merged.status_code == 201, merged.text
    merge_id = merged.json()["merge_id"]
    undone = await identity.client.post(f"/v1/merges/{merge_id}/unmerge", headers=admin)
    assert undone.status_code == 200, undone.text
    requested = await identity.client.post("/v1/privacy/erasures", json={"account_id": erased}, headers=admin)
    assert requested.status_code == 202, requested.text
    erasure_id = requested.json()["erasure_id"]
    assert (await identity.client.get(f"/v1/privacy/erasures/{erasure_id}", headers=admin)).status_code == 200

    async def recorded() -> list | None:
        items = (await _audit(identity, actor=admin_id))["items"]
        return items if len(items) == 4 else None
    read, erase, unmerge, merge = await eventually(recorded)
    assert (merge["route"], merge["action"], merge["status"]) == ("/v1/accounts/{account_id}/merges", "change", 201)
    assert set(merge["account_ids"]) == {target, source} and merge["ids"]["merge_id"] == merge_id
    assert (unmerge["route"], unmerge["status"]) == ("/v1/merges/{merge_id}/unmerge", 200)
    assert set(unmerge["account_ids"]) == {target, source}
    assert (erase["route"], erase["action"], erase["status"]) == ("/v1/privacy/erasures", "erase", 202)
    assert erase["account_ids"] == [erased] and erase["ids"]["erasure_id"] == erasure_id
    assert (read["action"], read["account_ids"]) == ("read", [erased])
    for account in (target, source):
        assert len((await _audit(identity, account_id=account))["items"]) >= 3   # created, merged, unmerged
