"""Retention on the real stack: a closed record past ``closed_interaction_retention_days`` is purged with its
timeline entry and its attachment's content; open records and recently closed ones stay; the purge is
counted in ``ic_retention_purged_total{kind="closed_interactions"}``. The service's clock is moved on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icsuite_chassis.testing import SettableClock, bearer, eventually, running_app, unique

from icsuite_interactions.bootstrap import build_app

from .conftest import service_settings

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def purged_total(client: Any) -> float:
    text = (await client.get("/metrics")).text
    found = re.search(r'^ic_retention_purged_total\{kind="closed_interactions"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def record(client: Any, account_id: str, *, close: bool, attach: bool = False) -> str:
    response = await client.post("/v1/interactions", json={"channel": "walk_in", "account_id": account_id},
                                 headers=AGENT)
    assert response.status_code == 201, response.text
    interaction_id = str(response.json()["interaction_id"])
    if attach:
        files = {"file": ("receipt.pdf", b"%PDF-1.4 old", "application/pdf")}
        assert (await client.post(f"/v1/interactions/{interaction_id}/attachments", headers=AGENT,
                                  files=files)).status_code == 201
    if close:
        assert (await client.post(f"/v1/interactions/{interaction_id}/complete", headers=AGENT,
                                  json={"outcome": "resolved"})).status_code == 200
    return interaction_id


async def timeline_ids(client: Any, account_id: str) -> set[str]:
    response = await client.get(f"/v1/accounts/{account_id}/interactions", headers=AGENT)
    return {item["interaction_id"] for item in response.json()["items"]}


async def test_old_closed_records_go_with_their_timeline_and_files(stack: Any) -> None:
    clock = SettableClock(T0)
    settings = service_settings(stack, closed_interaction_retention_days=30, retention_interval_s=0.3)
    app = build_app(settings, clock=clock)
    async with running_app(app) as client:
        db = app.state.runtime.db
        counted_before = await purged_total(client)
        account = unique("acc")
        old = await record(client, account, close=True, attach=True)
        still_open = await record(client, account, close=False)
        clock.now = T0 + timedelta(days=31)
        recent = await record(client, account, close=True)

        async def old_gone() -> bool:  # its timeline entry goes first (what refers to a record before it), then it
            return (await timeline_ids(client, account) == {still_open, recent}
                    and (await client.get(f"/v1/interactions/{old}", headers=AGENT)).status_code == 404)

        await eventually(old_gone, timeout=10)
        assert await timeline_ids(client, account) == {still_open, recent}
        assert await db["attachments.files"].count_documents({"metadata.interaction_id": old}) == 0
        assert (await client.get(f"/v1/interactions/{still_open}", headers=AGENT)).status_code == 200
        assert (await client.get(f"/v1/interactions/{recent}", headers=AGENT)).status_code == 200
        # at least this record: the counter is the process's, and other apps of this test process count too
        assert await purged_total(client) - counted_before >= 1
