"""Pruning of the de-duplication chains: only whole chains whose window has passed, never a raise twice."""

import asyncio
from datetime import timedelta

import pytest
from icsuite_chassis.testing import bearer, unique

from icsuite_alerts.dedupe_store import DEDUPE_READ_AHEAD, SEAL_PAUSE_S, seal_id
from icsuite_alerts.domain.evaluation import Match
from icsuite_alerts.domain.rules import Rule, RuleSpec
from icsuite_alerts.repository import Claim, dedupe_id, rule_from_doc

pytestmark = [pytest.mark.integration]

ADMIN = bearer("admin-1", "admin")
SUPERVISOR = bearer("sup-1", "supervisor")


def match(rule: Rule, account: str, contact: str, at, alert_id: str | None = None) -> Match:
    alert_id = alert_id or unique("al")
    return Match(alert_id, rule, "m", account, contact, "a-1", at, f"ev-{alert_id}", "ic.identity.contact-identified.v1")


def rule(window_s: int) -> Rule:
    spec = RuleSpec("r", ("ic.identity.contact-identified.v1",), "true", "info", "m", "agent", window_s)
    return Rule(unique("rule"), 1, spec)


async def chain_ids(repo, key: str) -> list[str]:
    ids = [dedupe_id(key, g) for g in range(1, 4 * DEDUPE_READ_AHEAD)] + [seal_id(key)]
    return sorted([d["_id"] async for d in repo.dedupe.find({"_id": {"$in": ids}}, {"_id": 1})])


async def test_the_job_removes_a_chain_only_after_its_window(alerts) -> None:
    svc = alerts.app.state.service
    repo = svc.alerts
    r, account, contact, t = rule(600), unique("acc"), unique("ct"), alerts.now()
    first = match(r, account, contact, t)
    assert await repo.claim_dedupe(first) is Claim.NEW
    assert await repo.claim_dedupe(match(r, account, contact, t + timedelta(seconds=100))) is Claim.REFUSED
    await svc.prune_dedupe_chains(now=t + timedelta(seconds=300), grace_s=0)  # inside the window: kept
    assert await chain_ids(repo, first.dedupe_key) == [first.dedupe_key]
    assert await repo.claim_dedupe(match(r, account, contact, t + timedelta(seconds=200))) is Claim.REFUSED
    assert await repo.claim_dedupe(first) is Claim.AGAIN
    # past the window, but not past the grace: kept
    await svc.prune_dedupe_chains(now=t + timedelta(seconds=700), grace_s=3600)
    assert await chain_ids(repo, first.dedupe_key) == [first.dedupe_key]
    assert await svc.prune_dedupe_chains(now=t + timedelta(seconds=700), grace_s=0) >= 1
    assert await chain_ids(repo, first.dedupe_key) == []
    again = match(r, account, contact, t + timedelta(seconds=700))
    assert await repo.claim_dedupe(again) is Claim.NEW  # a new chain
    assert await repo.claim_dedupe(match(r, account, contact, t + timedelta(seconds=750))) is Claim.REFUSED
    await svc.prune_dedupe_chains(now=t + timedelta(seconds=800), grace_s=0)
    assert await repo.claim_dedupe(match(r, account, contact, t + timedelta(seconds=900))) is Claim.REFUSED
    assert await chain_ids(repo, first.dedupe_key) == [first.dedupe_key]


async def test_a_long_chain_goes_whole_and_a_live_one_stays_whole(alerts) -> None:
    svc = alerts.app.state.service
    repo = svc.alerts
    short, account, t = rule(10), unique("acc"), alerts.now()
    old, live = unique("ct"), unique("ct")
    length = DEDUPE_READ_AHEAD + 3
    for i in range(length):  # raises 20 s apart: every one is a new generation
        assert await repo.claim_dedupe(match(short, account, old, t + timedelta(seconds=20 * i))) is Claim.NEW
        assert await repo.claim_dedupe(match(short, account, live, t + timedelta(seconds=20 * i))) is Claim.NEW
    newest = match(short, account, live, t + timedelta(seconds=20 * length + 1000))
    assert await repo.claim_dedupe(newest) is Claim.NEW  # only this chain's last raise is recent
    key_old, key_live = dedupe_id(short.rule_id + "\x1f" + account + "\x1f" + old, 1), newest.dedupe_key
    assert len(await chain_ids(repo, key_old)) == length
    await svc.prune_dedupe_chains(now=t + timedelta(seconds=20 * length + 100), grace_s=0)
    assert await chain_ids(repo, key_old) == []
    assert len(await chain_ids(repo, key_live)) == length + 1  # every older link stays while the last matters
    inside = match(short, account, live, newest.raised_at + timedelta(seconds=5))
    assert await repo.claim_dedupe(inside) is Claim.REFUSED
    assert await repo.claim_dedupe(newest) is Claim.AGAIN


async def test_a_rule_whose_window_grew_keeps_its_chains_longer(alerts) -> None:
    svc = alerts.app.state.service
    body = {"name": "grows", "triggers": ["ic.identity.contact-identified.v1"], "condition": "true",
            "severity": "info", "message": "m", "target": "agent", "dedupe_window_s": 60}
    created = await alerts.client.post("/v1/rules", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    r = rule_from_doc(await svc.rules.get(created.json()["rule_id"]))
    first = match(r, unique("acc"), unique("ct"), alerts.now() - timedelta(seconds=600))
    assert await svc.alerts.claim_dedupe(first) is Claim.NEW  # claimed with a 60 s window
    put = await alerts.client.put(f"/v1/rules/{r.rule_id}", json={**body, "dedupe_window_s": 3600}, headers=ADMIN)
    assert put.status_code == 200, put.text
    await svc.prune_dedupe_chains(grace_s=0)
    assert await chain_ids(svc.alerts, first.dedupe_key) == [first.dedupe_key]
    await alerts.client.delete(f"/v1/rules/{r.rule_id}", headers=ADMIN)


async def test_a_claim_waits_for_a_seal_and_an_extension_under_a_seal_withdraws(alerts) -> None:
    repo = alerts.app.state.service.alerts
    r, account, contact, t = rule(60), unique("acc"), unique("ct"), alerts.now()
    first = match(r, account, contact, t)
    assert await repo.claim_dedupe(first) is Claim.NEW
    key = first.dedupe_key
    await repo.dedupe.insert_one({"_id": seal_id(key), "s": t, "t": "test", "n": 1, "c": "x"})
    waiting = asyncio.create_task(repo.claim_dedupe(match(r, account, contact, t + timedelta(seconds=100))))
    await asyncio.sleep(20 * SEAL_PAUSE_S)
    assert not waiting.done()  # the chain is sealed: nothing is decided
    await repo.dedupe.delete_many({"_id": {"$in": [key, seal_id(key)]}})  # as the pruner ends
    assert await waiting is Claim.NEW
    assert await chain_ids(repo, key) == [key]  # a new chain, not generation 2 of the pruned one


async def test_pruning_beside_claims_never_raises_twice(alerts) -> None:
    """Several pruners (replicas) and claims on the same expired chains at once: one raise per key."""
    svc = alerts.app.state.service
    repo = svc.alerts
    r, account, t = rule(100), unique("acc"), alerts.now()
    contacts = [unique("ct") for _ in range(40)]
    for contact in contacts:
        for i in range(3):
            assert await repo.claim_dedupe(match(r, account, contact, t + timedelta(seconds=200 * i))) is Claim.NEW
    later = t + timedelta(seconds=200 * 3)
    claims = [[match(r, account, c, later + timedelta(seconds=k)) for k in range(3)] for c in contacts]
    prunes = [svc.prune_dedupe_chains(now=later, grace_s=0) for _ in range(3)]
    results = await asyncio.gather(*prunes, *(repo.claim_dedupe(m) for ms in claims for m in ms))
    outcomes = results[len(prunes):]
    for n, contact in enumerate(contacts):
        mine = outcomes[3 * n:3 * n + 3]
        assert mine.count(Claim.NEW) == 1, (contact, mine)
        # the chain that stands is whole: a claim inside the window is refused, the winner's redelivery is again
        winner = claims[n][mine.index(Claim.NEW)]
        assert await repo.claim_dedupe(match(r, account, contact, later + timedelta(seconds=50))) is Claim.REFUSED
        assert await repo.claim_dedupe(winner) is Claim.AGAIN
    assert not [d async for d in repo.dedupe.find({"_id": {"$in": [seal_id(m.dedupe_key) for m in claims[0]]}})]


async def test_events_after_pruning_raise_again_and_not_inside_the_window(alerts) -> None:
    """On the real stack: a raised alert, a repeat inside the window (pruning between), then one after it."""
    svc = alerts.app.state.service
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
        await alerts.publish(first)
        await alerts.processed(first)
        assert len(await mine()) == 1
        await svc.prune_dedupe_chains(now=t0 + timedelta(minutes=30), grace_s=0)  # inside the window
        repeat = alerts.identified(contact, account, time=t0 + timedelta(minutes=40))
        await alerts.publish(repeat)
        await alerts.processed(repeat)
        assert len(await mine()) == 1
        assert await svc.prune_dedupe_chains(grace_s=0) >= 1  # now (t0 + 90 min): past the window
        later = alerts.identified(contact, account, time=t0 + timedelta(minutes=80))
        await alerts.publish(later)
        await alerts.processed(later)
        raised = await mine()
        assert len(raised) == 2
        assert {a["trigger_event_id"] for a in raised} == {first.id, later.id}
    finally:
        await alerts.client.delete(f"/v1/rules/{rule_id}", headers=ADMIN)


async def test_a_chain_of_an_earlier_version_is_pruned_after_the_longest_window(alerts) -> None:
    """A document written before claims carried an expiry (no ``x``, no nonce) of a rule that is gone."""
    svc = alerts.app.state.service
    repo = svc.alerts
    r, account, contact, t = rule(0), unique("acc"), unique("ct"), alerts.now()
    first = match(r, account, contact, t)
    await repo.dedupe.insert_one({"_id": first.dedupe_key, "last_at": t, "alert_id": first.alert_id})
    assert await repo.claim_dedupe(match(r, account, contact, t + timedelta(seconds=1))) is Claim.NEW  # generation 2
    await repo.dedupe.update_one({"_id": dedupe_id(first.dedupe_key, 2)}, {"$unset": {"x": 1}})
    await svc.prune_dedupe_chains(now=t + timedelta(days=29), grace_s=0)
    assert len(await chain_ids(repo, first.dedupe_key)) == 2  # the rule is unknown: its window may be 30 days
    await svc.prune_dedupe_chains(now=t + timedelta(days=31), grace_s=0)
    assert await chain_ids(repo, first.dedupe_key) == []
