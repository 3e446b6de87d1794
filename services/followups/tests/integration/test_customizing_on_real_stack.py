"""Customizing: seeded defaults, admin-only writes, and creation allowed or refused by the rules."""

from __future__ import annotations

import pytest
import pytest_asyncio
from icsuite_chassis.testing import bearer, running_app, unique

from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
ADMIN = bearer("admin-1", "admin")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def client(followups_settings):
    async with running_app(build_app(followups_settings())) as http:
        yield http


def _followup(channel: str, type: str, source_type: str = "interaction") -> dict:
    return {"source": {"type": source_type, "id": unique("src")}, "type": type, "channel": channel}


async def test_defaults_are_seeded_and_readable_by_staff(client) -> None:
    types = await client.get("/v1/config/followup-types", headers=AGENT)
    rules = await client.get("/v1/config/copy-rules", headers=AGENT)
    assert types.status_code == 200 and rules.status_code == 200
    assert "phone_call" in types.json()["channels"]["phone"]
    assert set(types.json()["source_types"]) == {"interaction", "service_ticket", "service_order", "complaint", "case"}
    assert rules.json()["source_types"]["interaction"]["fields"] == ["account_id", "business_agreement_id", "reason_code"]
    assert (await client.get("/v1/config/copy-rules")).status_code == 401


async def test_only_an_admin_changes_the_customizing(client) -> None:
    current = (await client.get("/v1/config/followup-types", headers=AGENT)).json()
    body = {"channels": current["channels"], "source_types": current["source_types"]}
    assert (await client.put("/v1/config/followup-types", json=body, headers=AGENT)).status_code == 403
    assert (await client.put("/v1/config/followup-types", json=body,
                             headers=bearer("s-1", "supervisor"))).status_code == 403
    stale = {**body, "version": current["version"] - 1}
    assert (await client.put("/v1/config/followup-types", json=stale, headers=ADMIN)).status_code == 409
    written = await client.put("/v1/config/followup-types", json={**body, "version": current["version"]},
                               headers=ADMIN)
    assert written.status_code == 200 and written.json()["version"] == current["version"] + 1
    assert written.json()["updated_by"] == "admin-1"


@pytest.mark.parametrize("body", [
    {"channels": {"pigeon": ["email"]}, "source_types": {}},
    {"channels": {"phone": ["teleport"]}, "source_types": {}},
    {"channels": {}, "source_types": {"ticket": ["email"]}},
    {"channels": {}},
    {"channels": {}, "source_types": {}, "surprise": 1},
])
async def test_malformed_followup_types_are_refused(client, body) -> None:
    answer = await client.put("/v1/config/followup-types", json=body, headers=ADMIN)
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"


async def test_malformed_copy_rules_are_refused(client) -> None:
    for body in ({"source_types": {"interaction": {"fields": ["password"]}}},
                 {"source_types": {"blog_post": {"fields": []}}},
                 {"source_types": {"interaction": {"fields": "account_id"}}}):
        assert (await client.put("/v1/config/copy-rules", json=body, headers=ADMIN)).status_code == 422


async def test_the_customizing_allows_and_refuses_naming_the_rule(client) -> None:
    config = {"channels": {"phone": ["phone_call", "visit"], "email": ["email", "task"]},
              "source_types": {"interaction": ["phone_call", "email", "task"], "case": ["visit", "task"]}}
    assert (await client.put("/v1/config/followup-types", json=config, headers=ADMIN)).status_code == 200

    allowed = await client.post("/v1/followups", json=_followup("phone", "phone_call"), headers=AGENT)
    assert allowed.status_code == 201, allowed.text
    assert allowed.headers["location"] == f"/v1/followups/{allowed.json()['followup_id']}"

    by_channel = await client.post("/v1/followups", json=_followup("phone", "email"), headers=AGENT)
    assert by_channel.status_code == 422
    assert by_channel.json()["rule"] == "followup-types[channel=phone]"
    assert by_channel.json()["permitted"] == ["phone_call", "visit"]

    by_source = await client.post("/v1/followups", json=_followup("phone", "visit"), headers=AGENT)
    assert by_source.status_code == 422
    assert by_source.json()["rule"] == "followup-types[source_type=interaction]"

    unlisted = await client.post("/v1/followups", json=_followup("chat", "email"), headers=AGENT)
    assert unlisted.status_code == 422 and unlisted.json()["rule"] == "followup-types[channel=chat]"
    assert (await client.post("/v1/followups", json=_followup("phone", "visit", "case"),
                              headers=AGENT)).status_code == 201
