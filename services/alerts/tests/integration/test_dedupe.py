"""De-duplication on the real stack: one document per key, taken by one insert, removed by a TTL index."""

import asyncio
from datetime import timedelta

import pytest
from icsuite_chassis.store import Item, MongoAggregateStore
from icsuite_chassis.testing import bearer, unique

from icsuite_alerts.domain.alerts import Claim, claim_of, decide_claim
from icsuite_alerts.domain.evaluation import Match
from icsuite_alerts.domain.rules import Rule, RuleSpec
from icsuite_alerts.repository import DedupeCodec

pytestmark = [pytest.mark.integration]

ADMIN = bearer("admin-1", "admin")
SUPERVISOR = bearer("sup-1", "supervisor")
KEEP_S = 3600


def match(rule: Rule, account: str, contact: str, at, alert_id: str | None = None) -> Match:
    alert_id = alert_id or unique("al")
    return Match(alert_id, rule, "m", account, contact, "a-1", at, f"ev-{alert_id}", "ic.identity.contact-identified.v1")


def rule(window_s: int) -> Rule:
    spec = RuleSpec("r", ("ic.identity.contact-identified.v1",), "true", "info", "m", "agent", window_s)
    return Rule(unique("rule"), 1, spec)


def replica(alerts) -> MongoAggregateStore:
    """The de-duplication store as another replica has it (its own store on the same collection)."""
    return MongoAggregateStore(alerts.db, "alert_dedupe", DedupeCodec())


async def claim(store, *matches: Match) -> list[Claim]:
    outcomes = await store.change_many([Item(m.dedupe_key, decide_claim(m, keep_s=KEEP_S)) for m in matches])
    return [claim_of(o, m) for o, m in zip(outcomes, matches, strict=True)]


async def test_concurrent_claims_of_one_window_from_eight_replicas_let_exactly_one_raise(alerts) -> None:
    r, account, contact, t = rule(600), unique("acc"), unique("ct"), alerts.now()
    contenders = [match(r, account, contact, t + timedelta(seconds=i)) for i in range(8)]
    results = [c for [c] in await asyncio.gather(*(claim(replica(alerts), m) for m in contenders))]
    assert sorted(c.value for c in results) == ["new"] + ["refused"] * 7
    winner = contenders[results.index(Claim.NEW)]
    assert await claim(replica(alerts), winner) == [Claim.AGAIN]  # a redelivery of the winner
    after_window = match(r, account, contact, winner.raised_at + timedelta(seconds=600))
    other = match(r, account, unique("ct"), t)
    assert await claim(replica(alerts), after_window, other) == [Claim.NEW, Claim.NEW]
    assert await claim(replica(alerts), after_window, winner) == [Claim.AGAIN, Claim.REFUSED]
    assert await alerts.db.alert_dedupe.count_documents({"_id": winner.dedupe_key}) == 1  # one document per key


async def test_the_document_carries_its_expiry_under_a_ttl_index(alerts) -> None:
    r, t = rule(600), alerts.now()
    first = match(r, unique("acc"), unique("ct"), t)
    assert await claim(replica(alerts), first) == [Claim.NEW]
    doc = await alerts.db.alert_dedupe.find_one({"_id": first.dedupe_key})
    assert doc["expires_at"] - doc["last_at"] == timedelta(seconds=600 + KEEP_S)
    indexes = {i["name"]: i async for i in await alerts.db.alert_dedupe.list_indexes()}
    assert indexes["expires_at_ttl"]["expireAfterSeconds"] == 0
    assert dict(indexes["expires_at_ttl"]["key"]) == {"expires_at": 1}


async def test_a_document_past_its_window_but_not_yet_removed_lets_the_next_raise_through(alerts) -> None:
    r, account, contact, t = rule(60), unique("acc"), unique("ct"), alerts.now()
    old = match(r, account, contact, t - timedelta(hours=3))
    await alerts.db.alert_dedupe.insert_one({"_id": old.dedupe_key, "last_at": old.raised_at, "alert_id": old.alert_id,
                                            "expires_at": t - timedelta(hours=2)})  # the TTL monitor is late
    fresh = match(r, account, contact, t)
    assert await claim(replica(alerts), fresh) == [Claim.NEW]
    assert (await alerts.db.alert_dedupe.find_one({"_id": fresh.dedupe_key}))["alert_id"] == fresh.alert_id


async def test_a_document_of_an_earlier_version_still_decides(alerts) -> None:
    """Earlier versions kept ``last_at`` and ``alert_id`` (and later ``x``, the window's end) under the key."""
    r, account, t = rule(600), unique("acc"), alerts.now()
    for extra in ({}, {"x": t + timedelta(seconds=600), "c": "nonce"}):
        first = match(r, account, unique("ct"), t)
        await alerts.db.alert_dedupe.insert_one({"_id": first.dedupe_key, "last_at": t, "alert_id": first.alert_id,
                                                **extra})
        assert await claim(replica(alerts), first) == [Claim.AGAIN]
        repeat = match(r, account, first.contact_id, t + timedelta(seconds=100))
        assert await claim(replica(alerts), repeat) == [Claim.REFUSED]
        later = match(r, account, first.contact_id, t + timedelta(seconds=700))
        assert await claim(replica(alerts), later) == [Claim.NEW]


async def test_a_repeat_inside_the_window_is_quiet_and_one_after_it_raises(alerts) -> None:
    """On the real stack, by trigger-event times: a raise, a repeat inside the window, one after it."""
    body = {"name": "each hour", "triggers": ["ic.identity.contact-identified.v1"], "condition": "true",
            "severity": "info", "message": "seen", "target": "agent", "dedupe_window_s": 3600}
    created = await alerts.client.post("/v1/rules", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    rule_id = created.json()["rule_id"]
    account, contact, t0 = unique("acc"), unique("ct"), alerts.now() - timedelta(minutes=90)

    async def mine() -> list[dict]:
        response = await alerts.client.get("/v1/alerts", params={"contact_id": contact}, headers=SUPERVISOR)
        return [a for a in response.json()["items"] if a["rule_id"] == rule_id]

    try:
        first = alerts.identified(contact, account, time=t0)
        repeat = alerts.identified(contact, account, time=t0 + timedelta(minutes=40))
        later = alerts.identified(contact, account, time=t0 + timedelta(minutes=80))
        for event, expected in ((first, 1), (repeat, 1), (first, 1), (later, 2)):  # `first` again: a redelivery
            await alerts.publish(event)
            await alerts.processed(event)
            assert len(await mine()) == expected
        assert {a["trigger_event_id"] for a in await mine()} == {first.id, later.id}
    finally:
        await alerts.client.delete(f"/v1/rules/{rule_id}", headers=ADMIN)
