"""Seed 000 on the real stack: a call follow-up whose planned start arrived (ic.followup.due.v1) becomes a work
item in its owner's inbox once, as channel followup, dialling the account's stored number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icsuite_chassis.testing import eventually, publish_envelopes, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.followups_v1 import FollowupDue
from icsuite_contracts.masterdata_v1 import AccountUpserted

pytestmark = [pytest.mark.integration]


async def test_a_due_call_follow_up_lands_once_in_the_owners_inbox(kit, mongo_client) -> None:
    account, owner, followup = unique("acc"), unique("agent"), unique("fu")
    await publish_envelopes(kit.stack.kafka_bootstrap, new_envelope(AccountUpserted(
        account_id=account, source_version=1, kind="person", name="Erika", phones=["+4940555123"]), source="/billing"))
    replica = mongo_client[kit.settings.mongodb_database]["account_phones"]
    await eventually(lambda: replica.find_one({"_id": account}), timeout=120)
    due = new_envelope(FollowupDue(followup_id=followup, account_id=account, owner_id=owner, type="phone_call",
                                   planned_start=datetime.now(UTC)), source="/followups")
    await publish_envelopes(kit.stack.kafka_bootstrap, due, due)   # delivered twice: one item

    async def in_inbox() -> list[dict]:
        response = await kit.client.get(f"/v1/agents/{owner}/inbox", headers=kit.agent(owner))
        items = response.json()["items"]
        assert items
        return items

    [item] = await eventually(in_inbox, timeout=120)
    assert (item["channel"], item["status"], item["agent_id"], item["account_id"]) == ("followup", "claimed", owner,
                                                                                       account)
    started = await kit.act(item["callback_id"], "start", kit.agent(owner), {"dial": "account"})
    assert started.status_code == 200 and started.json()["number_to_dial"] == "+4940555123"
    events = await kit.events({item["callback_id"]}, expect=3)
    assert [e["type"] for e in events] == ["queued", "claimed", "started"]
    assert len((await kit.client.get(f"/v1/agents/{owner}/inbox", headers=kit.agent(owner))).json()["items"]) == 1
