"""Retention on the real stack: with a retention of a few seconds, a closed callback goes once it is older,
open ones and recently closed ones stay, and ``ic_retention_purged_total{kind="closed_callbacks"}`` counts it."""

from __future__ import annotations

import asyncio
import re

import pytest

from .conftest import Kit

pytestmark = pytest.mark.integration
RETENTION_S = 4.0
SETTINGS = {"closed_callback_retention_days": RETENTION_S / 86400, "retention_interval_s": 0.3}


async def purged_total(kit: Kit) -> float:
    text = (await kit.client.get("/metrics")).text
    found = re.search(r'^ic_retention_purged_total\{kind="closed_callbacks"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_old_closed_callbacks_go_open_and_recent_ones_stay(kit: Kit) -> None:
    counted_before = await purged_total(kit)
    old, kept_open = await kit.request(), await kit.request()
    assert (await kit.act(old, "cancel", kit.supervisor, {"reason": "customer_called_back"})).status_code == 200
    await asyncio.sleep(RETENTION_S + 0.5)
    recent = await kit.request()
    assert (await kit.act(recent, "cancel", kit.supervisor, {"reason": "customer_called_back"})).status_code == 200
    for _ in range(30):
        if (await kit.client.get(f"/v1/callbacks/{old}", headers=kit.supervisor)).status_code == 404:
            break
        await asyncio.sleep(0.1)
    assert (await kit.client.get(f"/v1/callbacks/{old}", headers=kit.supervisor)).status_code == 404
    await kit.status_is(kept_open, "queued")
    await kit.status_is(recent, "cancelled")
    assert await purged_total(kit) - counted_before == 1
