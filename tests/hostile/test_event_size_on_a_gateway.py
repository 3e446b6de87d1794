"""An agent request whose event would exceed the 512 KiB event limit is refused with 413 naming the field,
nothing is stored, and the record's later changes still reach Kafka (the interactions service in this
process, on the real stack)."""

from __future__ import annotations

import pytest
from icsuite_chassis.testing import bearer, header, read_topic, running_app, unique

from icsuite_interactions.bootstrap import build_app
from icsuite_interactions.settings import InteractionsSettings

pytestmark = [pytest.mark.integration]
AGENT = bearer("a-17", "agent")


async def test_an_oversize_activity_is_refused_and_the_record_goes_on(stack) -> None:
    name = unique("hostile").replace("-", "_")
    settings = InteractionsSettings(kafka_bootstrap_servers=stack.kafka_bootstrap, mongodb_uri=stack.mongodb_uri,
                                    mongodb_database=name, consumer_group_prefix=f"{name}.", environment="test",
                                    outbox_sweep_interval_s=1.0)
    async with running_app(build_app(settings)) as client:
        opened = await client.post("/v1/interactions", json={"channel": "walk_in", "account_id": unique("acc")},
                                   headers=AGENT)
        assert opened.status_code == 201, opened.text
        interaction_id = opened.json()["interaction_id"]
        base = f"/v1/interactions/{interaction_id}"
        details = {f"k{i}": "€" * 4096 for i in range(50)}  # 615 kB of request, over 512 KiB of event
        refused = await client.post(f"{base}/activities", json={"kind": "search", "details": details},
                                    headers=AGENT)
        assert refused.status_code == 413, refused.text
        problem = refused.json()
        assert problem["type"].endswith("/event-too-large") and problem["field"] == "details"
        record = (await client.get(base, headers=AGENT)).json()
        assert record["activities"] == []
        fine = await client.post(f"{base}/activities", json={"kind": "search", "details": {"q": "x"}},
                                 headers=AGENT)
        assert fine.status_code == 201, fine.text
        published = await read_topic(stack.kafka_bootstrap, "ic.interactions.v1",
                                      lambda r: r.key == interaction_id.encode()
                                      and header(r, "ce_type") == "ic.interaction.activity-recorded.v1", expect=1)
        assert len(published) == 1
