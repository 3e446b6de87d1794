"""Retention on the real stack: a completed or cancelled follow-up past ``finished_followup_retention_days``
is purged; open and recently finished ones stay; ``ic_retention_purged_total{kind="finished_followups"}``
counts it. The service's clock is moved on."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icsuite_chassis.testing import SettableClock, bearer, running_app, unique

from icsuite_followups.bootstrap import build_app

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def purged_total(client: Any) -> float:
    text = (await client.get("/metrics")).text
    found = re.search(r'^ic_retention_purged_total\{kind="finished_followups"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def followup(client: Any, finish: str | None) -> str:
    body = {"source": {"type": "interaction", "id": unique("int")}, "type": "task", "channel": "phone",
            "account_id": unique("acc")}
    created = await client.post("/v1/followups", headers=AGENT, json=body)
    assert created.status_code == 201, created.text
    followup_id = str(created.json()["followup_id"])
    if finish:
        done = await client.patch(f"/v1/followups/{followup_id}", headers=AGENT, json={"status": finish})
        assert done.status_code == 200 and done.json()["status"] == finish, done.text
    return followup_id


async def test_old_finished_followups_go_open_and_recent_ones_stay(followups_settings: Any) -> None:
    clock = SettableClock(T0)
    settings = followups_settings(finished_followup_retention_days=30, retention_interval_s=0.3)
    async with running_app(build_app(settings, clock=clock)) as client:
        counted_before = await purged_total(client)
        completed, cancelled, still_open = (await followup(client, "completed"), await followup(client, "cancelled"),
                                            await followup(client, None))
        clock.now = T0 + timedelta(days=31)
        recent = await followup(client, "completed")
        gone: set[str] = set()
        for _ in range(100):
            gone = {f for f in (completed, cancelled, still_open, recent)
                    if (await client.get(f"/v1/followups/{f}", headers=AGENT)).status_code == 404}
            if gone == {completed, cancelled}:
                break
            await asyncio.sleep(0.1)
        assert gone == {completed, cancelled}
        assert await purged_total(client) - counted_before == 2
