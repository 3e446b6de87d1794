"""Each standard rule fires on the events that should fire it and stays quiet otherwise."""

import asyncio
from datetime import timedelta

import pytest
from icsuite_chassis.testing import bearer, unique
from icsuite_contracts.callbacks_v1 import CallbackCompleted, CallbackQueued
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.followups_v1 import FollowupOverdue, FollowupStatusChanged
from icsuite_contracts.testing import sample_event

pytestmark = [pytest.mark.integration]


def rules_of(alerts: list[dict]) -> set[str]:
    return {a["rule_id"] for a in alerts}


async def quiet(alerts, contact_envelope) -> list[dict]:
    """Publish the contact and answer the alerts raised for it once it was processed."""
    await alerts.publish(contact_envelope)
    await alerts.processed(contact_envelope)
    await asyncio.sleep(0.3)
    return await alerts.alerts_for(contact_envelope.data.contact_id)


async def test_dunning_level_two_fires_and_one_stays_quiet(alerts) -> None:
    hot, cold = unique("acc"), unique("acc")
    await alerts.publish(alerts.agreement(hot, dunning_level=2), alerts.agreement(cold, dunning_level=1))
    await alerts.facts(hot, dunning_level=2)
    await alerts.facts(cold, dunning_level=1)
    contact = unique("ct")
    await alerts.publish(alerts.identified(contact, hot, agent_id="a-dun"))
    raised = await alerts.alerts_for(contact, expect=1)
    assert rules_of(raised) == {"std-dunning-level"}
    assert raised[0]["agent_id"] == "a-dun" and raised[0]["account_id"] == hot
    assert raised[0]["message"].startswith("Dunning level 2") and raised[0]["rule_version"] == 1
    assert await quiet(alerts, alerts.identified(unique("ct"), cold)) == []


async def test_third_contact_within_seven_days(alerts) -> None:
    account, spread = unique("acc"), unique("acc")
    t = alerts.now()
    contacts = [unique("ct") for _ in range(3)]
    for i, contact in enumerate(contacts):
        await alerts.publish(alerts.identified(contact, account, time=t - timedelta(days=2 - i)))
        await alerts.facts(account, contacts_last_30d=i + 1)
    raised = await alerts.alerts_for(contacts[2], expect=1)
    assert rules_of(raised) == {"std-third-contact-7d"}
    assert raised[0]["message"].startswith("3 contacts within 7 days")
    assert await alerts.alerts_for(contacts[0]) == [] and await alerts.alerts_for(contacts[1]) == []
    # three contacts, but the first more than 7 days ago: quiet
    for days in (10, 3):
        await alerts.publish(alerts.identified(unique("ct"), spread, time=t - timedelta(days=days)))
    await alerts.facts(spread, contacts_last_30d=2)
    assert await quiet(alerts, alerts.identified(unique("ct"), spread, time=t)) == []


async def test_open_callback_fires_and_a_completed_one_does_not(alerts) -> None:
    hot, cold = unique("acc"), unique("acc")
    queued = sample_event(CallbackQueued, account_id=hot)
    done = sample_event(CallbackQueued, account_id=cold)
    await alerts.publish(new_envelope(queued, source="/test"), new_envelope(done, source="/test"))
    await alerts.facts(cold, open_callbacks=1)
    completed = CallbackCompleted(callback_id=done.callback_id, request_id=done.request_id, account_id=cold,
                                  at=alerts.now(), agent_id="a-17", outcome="reached")
    await alerts.publish(new_envelope(completed, source="/test"))
    await alerts.facts(hot, open_callbacks=1)
    await alerts.facts(cold, open_callbacks=0)
    contact = unique("ct")
    await alerts.publish(alerts.identified(contact, hot))
    raised = await alerts.alerts_for(contact, expect=1)
    assert rules_of(raised) == {"std-open-callback"}
    assert await quiet(alerts, alerts.identified(unique("ct"), cold)) == []


async def test_overdue_followup_fires_until_it_is_completed(alerts) -> None:
    account = unique("acc")
    overdue = sample_event(FollowupOverdue, account_id=account)
    await alerts.publish(new_envelope(overdue, source="/test"))
    await alerts.facts(account, overdue_followups=1)
    contact = unique("ct")
    await alerts.publish(alerts.identified(contact, account))
    raised = await alerts.alerts_for(contact, expect=1)
    assert rules_of(raised) == {"std-overdue-followup"}
    done = FollowupStatusChanged(followup_id=overdue.followup_id, account_id=account, old_status="open",
                                 new_status="completed", at=alerts.now(), by="a-17")
    await alerts.publish(new_envelope(done, source="/test"))
    await alerts.facts(account, overdue_followups=0)
    assert await quiet(alerts, alerts.identified(unique("ct"), account)) == []


async def test_balance_above_threshold_fires_and_below_stays_quiet(alerts) -> None:
    hot, cold = unique("acc"), unique("acc")
    await alerts.publish(alerts.agreement(hot, balance="750.5"), alerts.agreement(cold, balance="499.99"))
    await alerts.facts(hot, balance=750.5)
    await alerts.facts(cold, balance=499.99)
    contact = unique("ct")
    await alerts.publish(alerts.identified(contact, hot))
    raised = await alerts.alerts_for(contact, expect=1)
    assert rules_of(raised) == {"std-high-balance"}
    assert raised[0]["severity"] == "critical" and "750.50" in raised[0]["message"]
    assert await quiet(alerts, alerts.identified(unique("ct"), cold)) == []


async def test_an_older_snapshot_never_overwrites_a_newer_one(alerts) -> None:
    account = unique("acc")
    newer = alerts.agreement(account, dunning_level=0, version=5)
    older = alerts.agreement(account, dunning_level=3, version=4)
    older = new_envelope(older.data.model_copy(update={"business_agreement_id": newer.data.business_agreement_id}),
                         source="/test")
    await alerts.publish(newer)
    await alerts.facts(account, dunning_level=0)
    await alerts.publish(older)
    await alerts.processed(older)
    assert (await alerts.facts(account))["dunning_level"] == 0


ADMIN = bearer("admin-1", "admin")


async def test_credit_status_and_overdue_bills_are_facts_rules_can_use(alerts) -> None:
    account, contact = unique("acc"), unique("ct")
    past = (alerts.now() - timedelta(days=10)).date().isoformat()
    future = (alerts.now() + timedelta(days=10)).date().isoformat()
    await alerts.publish(alerts.agreement(account, credit_status="bad", open_bills=[("84.50", past), ("15.25", past),
                                                                                  ("99", future)]))
    facts = await alerts.facts(account, credit_status="bad", overdue_bills=2)
    assert facts["overdue_amount"] == 99.75
    body = {"name": "bad credit with overdue bills", "triggers": ["ic.identity.contact-identified.v1"],
            "condition": 'facts.credit_status == "bad" && facts.overdue_bills >= 2 && facts.overdue_amount > 50.0',
            "severity": "warning", "message": "{facts.overdue_bills} overdue bills, {facts.overdue_amount} in total",
            "target": "agent", "dedupe_window_s": 600}
    created = await alerts.client.post("/v1/rules", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    try:
        await asyncio.sleep(0.5)  # the rules revision reaches the consumer
        event = alerts.identified(contact, account)
        await alerts.publish(event)
        [alert] = [a for a in await alerts.alerts_for(contact, expect=1) if a["rule_id"] == created.json()["rule_id"]]
        assert alert["message"] == "2 overdue bills, 99.75 in total"
    finally:
        await alerts.client.delete(f"/v1/rules/{created.json()['rule_id']}", headers=ADMIN)
