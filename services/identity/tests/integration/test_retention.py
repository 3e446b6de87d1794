"""Retention on the real stack: a contact's context untouched for longer than ``contact_context_retention_days``
is purged, a recent one stays, and ``ic_retention_purged_total{kind="contact_contexts"}`` counts it. The
service's clock is moved on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icsuite_chassis.testing import (SettableClock, bearer, eventually, publish_envelopes, running_app,
                                     start_consumers_at_the_end, unique)
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded

from icsuite_identity.bootstrap import build_app
from icsuite_identity.settings import IdentitySettings

pytestmark = pytest.mark.integration
AGENT = bearer("a-17", "agent")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def purged_total(client: Any) -> float:
    text = (await client.get("/metrics")).text
    found = re.search(r'^ic_retention_purged_total\{kind="contact_contexts"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def reported(client: Any, bootstrap: str) -> str:
    contact_id = unique("c")
    await publish_envelopes(bootstrap, new_envelope(ContactSegmentRecorded(
        contact_id=contact_id, segment_id=f"{contact_id}-1", kind="agent", agent_id="a-17",
        started_at=datetime.now(UTC)), source="/test/cti", correlation_id=contact_id))

    async def known() -> bool | None:
        return (await client.get(f"/v1/contacts/{contact_id}/context", headers=AGENT)).status_code == 200 or None
    await eventually(known, timeout=180)
    return contact_id


async def test_an_old_contact_context_goes_and_a_recent_one_stays(stack) -> None:
    clock = SettableClock(T0)
    settings = IdentitySettings(kafka_bootstrap_servers=stack.kafka_bootstrap, mongodb_uri=stack.mongodb_uri,
                                mongodb_database=unique("identity_test").replace("-", "_"),
                                consumer_group_prefix=unique("t") + ".", consumer_retry_backoff_s=0.01,
                                contact_context_retention_days=30, retention_interval_s=0.3)
    app = build_app(settings, clock=clock)
    await start_consumers_at_the_end(app, stack.kafka_bootstrap)  # only this test's two contacts, not the session's
    async with running_app(app) as client:
        before = await purged_total(client)
        old = await reported(client, stack.kafka_bootstrap)
        clock.now = T0 + timedelta(days=31)
        recent = await reported(client, stack.kafka_bootstrap)

        async def old_gone() -> bool | None:
            return (await client.get(f"/v1/contacts/{old}/context", headers=AGENT)).status_code == 404 or None
        await eventually(old_gone, timeout=30)
        assert (await client.get(f"/v1/contacts/{recent}/context", headers=AGENT)).status_code == 200
        assert await purged_total(client) - before == 1
