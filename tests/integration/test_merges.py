"""Merging and unmerging duplicate accounts across the five running services, and the duplicate report.

Counts are read from each service's own database: interactions, follow-ups, callbacks and alerts of the
source and of the target, and the read models that name an account (follow-ups' projection of
interactions, callbacks' identity answers), before the merge, after it, and after the unmerge. Beside them,
what the gateways answer: the alerts service's facts and alerts of each account, and the candidate lists
(identity's contact contexts, one identified and one ambiguous; callbacks' items, identified and not, and
identity's answers about their numbers): during the merge they answer the surviving account, after the
unmerge exactly what they answered before.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from icsuite_chassis.mongo import create_mongo_client
from icsuite_chassis.testing import eventually, header, publish_envelopes, publish_raw, read_topic, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.masterdata_v1 import AccountUpserted, Address

from e2e_report import REPORT
from e2e_steps import headers, poll_json, replicate_customer
from merge_answers import Answers, combined_facts, contacts_from, merged_lists

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
COLLECTIONS = {"interactions": ("interactions", "interactions"), "followups": ("followups", "followups"),
               "interaction_sources": ("followups", "interaction_sources"), "callbacks": ("callbacks", "callbacks"),
               "caller_identifications": ("callbacks", "caller_identifications"), "alerts": ("alerts", "alerts")}
"""What is counted per account: (service, collection)."""
UNTOUCHED_ELSE = ("interactions", "followups", "alerts")
"""Services whose objects here change only by the merge (callbacks' scheduler may move a request on)."""


class Counts:
    def __init__(self, suite) -> None:
        self.client = create_mongo_client(suite.mongodb_uri, app_name="test-merges")
        self.suite = suite

    def collection(self, kind: str):
        service, collection = COLLECTIONS[kind]
        return self.client[self.suite.database(service)][collection]

    async def of(self, account_id: str) -> dict[str, int]:
        return {kind: await self.collection(kind).count_documents({"account_id": account_id}) for kind in COLLECTIONS}

    async def versions(self, account_ids: list[str]) -> dict[str, int]:
        found = {}
        for service in UNTOUCHED_ELSE:
            async for doc in self.collection(service).find({"account_id": {"$in": account_ids}}, {"_version": 1}):
                found[f"{service}:{doc['_id']}"] = doc["_version"]
        return found


async def objects_for(client: httpx.AsyncClient, suite, account_id: str, phone: str, n: int,
                      identified: int = 0) -> list[str]:
    """``n`` interactions, follow-ups (each raising an alert) and callbacks of ``account_id``, and
    ``identified`` callbacks requested without an account (identity finds it by the number): their ids."""
    agent, channel = headers(suite, "a-merge", "agent"), headers(suite, "web", "channel")
    for _ in range(n):
        r = await client.post(suite.url("interactions", "/v1/interactions"), headers=agent,
                              json={"channel": "walk_in", "account_id": account_id})
        assert r.status_code == 201, r.text
        r = await client.post(suite.url("followups", "/v1/followups"), headers=agent, json={
            "source": {"type": "case", "id": unique("case")}, "type": "task", "channel": "phone",
            "account_id": account_id})
        assert r.status_code == 201, r.text
        r = await client.post(suite.url("callbacks", "/v1/callbacks"), headers=channel,
                              json={"callback_number": phone, "account_id": account_id})
        assert r.status_code == 202, r.text
    requested = []
    for _ in range(identified):
        r = await client.post(suite.url("callbacks", "/v1/callbacks"), headers=channel, json={"callback_number": phone})
        assert r.status_code == 202, r.text
        requested.append(r.json()["callback_id"])
    return requested


async def settled(counts: Counts, expected: dict[str, dict[str, int]], timeout: float = 90) -> None:
    async def equal() -> bool:
        now = {a: await counts.of(a) for a in expected}
        assert now == expected, now
        return True
    await eventually(equal, timeout=timeout, interval=0.3)


async def stable(counts: Counts, account_id: str, wanted: dict[str, int], quiet_s: float = 3.0) -> dict[str, int]:
    """The account's counts once it holds at least the ``wanted`` number of each kind and
    nothing changed for ``quiet_s`` (standard alert rules may raise more alerts than the test's own rule)."""
    async def enough() -> dict[str, int]:
        now = await counts.of(account_id)
        assert all(now[kind] >= n for kind, n in wanted.items()), now
        return now
    last = await eventually(enough, timeout=90, interval=0.3)
    while True:
        await asyncio.sleep(quiet_s)
        now = await counts.of(account_id)
        if now == last:
            return now
        last = now


def at_least(n: int, identified: int = 0) -> dict[str, int]:
    """What an account holds at least after :func:`objects_for` (one source record per interaction)."""
    return {**dict.fromkeys(COLLECTIONS, n), "caller_identifications": identified}


def plus(a: dict[str, int], b: dict[str, int], sign: int = 1) -> dict[str, int]:
    return {service: a[service] + sign * b[service] for service in a}


async def test_a_merge_and_its_unmerge_move_everything_and_back(suite) -> None:
    target, source = await replicate_customer(suite), await replicate_customer(suite, dunning_level=1,
                                                                                balance="30.00")
    # the duplicate also has the target's number: a call or a callback request from it finds both accounts
    await publish_envelopes(suite.kafka_bootstrap, new_envelope(AccountUpserted(
        account_id=source.account_id, source_version=2, kind="person", name="Erika Muster",
        phones=[source.phone, target.phone], emails=[source.email],
        address=Address(street="Hauptstr. 5", postcode="10115", city="Berlin", country="DE")), source="/erp"))
    counts = Counts(suite)
    admin, supervisor = headers(suite, "admin-1", "admin"), headers(suite, "sup-1", "supervisor")
    channel = headers(suite, "web", "channel")
    async with httpx.AsyncClient(timeout=15) as client:
        answers = Answers(client, suite, counts.collection("caller_identifications"))
        await poll_json(client, suite.url("identity", f"/v1/accounts/search?phone={target.phone.replace('+', '%2B')}"),
                        supervisor, lambda b: len(b.get("items") or []) == 2)
        await contacts_from(client, suite, answers, {source.phone: "identified", target.phone: "ambiguous"})
        rule = await client.post(suite.url("alerts", "/v1/rules"), headers=admin, json={
            "name": unique("merge-rule"), "triggers": ["ic.followup.created.v1"],
            "condition": f'event.account_id == "{target.account_id}" || event.account_id == "{source.account_id}"',
            "severity": "info", "message": "follow-up {event.followup_id}", "target": "supervisors",
            "dedupe_window_s": 0, "enabled": True})
        assert rule.status_code == 201, rule.text
        await objects_for(client, suite, target.account_id, target.phone, 1)
        answers.callbacks += await objects_for(client, suite, source.account_id, source.phone, 2, identified=1)
        r = await client.post(suite.url("callbacks", "/v1/callbacks"), headers=channel,
                              json={"callback_number": target.phone})
        assert r.status_code == 202, r.text
        answers.callbacks.append(r.json()["callback_id"])
        of_target = await stable(counts, target.account_id, at_least(1))
        of_source = await stable(counts, source.account_id, at_least(2, identified=1))
        versions = {account: await counts.versions([account]) for account in (target.account_id, source.account_id)}
        facts = {a: await answers.settled(answers.facts, a) for a in (target.account_id, source.account_id)}
        alerts = {a: await answers.alerts(a) for a in (target.account_id, source.account_id)}
        lists = await answers.settled(answers.candidate_lists)
        assert lists[f"context:{answers.contacts[1]}"][0] is None and len(lists[f"context:{answers.contacts[1]}"]) == 3
        assert lists[f"callback:{answers.callbacks[-1]}"][0] is None  # ambiguous: not identified
        assert facts[source.account_id]["contacts_last_7d"] == 3  # the call and the two walk-in interactions
        assert facts[source.account_id]["open_callbacks"] >= 2 and facts[source.account_id]["dunning_level"] == 1

        r = await client.post(suite.url("identity", f"/v1/accounts/{target.account_id}/merges"), headers=supervisor,
                              json={"source_account_id": source.account_id})
        assert r.status_code == 201, r.text
        merge_id = r.json()["merge_id"]
        await settled(counts, {target.account_id: plus(of_target, of_source),
                               source.account_id: dict.fromkeys(COLLECTIONS, 0)})
        assert of_source["caller_identifications"] == 1 and of_source["interaction_sources"] >= 2
        group = combined_facts(facts[target.account_id], facts[source.account_id])
        await answers.until(group, answers.facts, target.account_id)
        assert await answers.facts(source.account_id) == group  # the merged account answers as the surviving one
        both = sorted(alerts[target.account_id] + alerts[source.account_id])
        await answers.until(both, answers.alerts, target.account_id)
        assert await answers.alerts(source.account_id) == both
        await answers.until(merged_lists(lists, source.account_id, target.account_id), answers.candidate_lists)
        phone = source.phone.replace("+", "%2B")
        found = await poll_json(client, suite.url("identity", f"/v1/accounts/search?phone={phone}"), supervisor,
                                lambda b: bool(b.get("items")))
        assert [c["account_id"] for c in found["items"]] == [target.account_id]

        # the merge event delivered again (same ce_id) moves nothing twice: each object changes once for the
        # merge and once for the unmerge, and every service's record of the merge names each object once
        [record] = await read_topic(suite.kafka_bootstrap, "ic.account-merges.v1",
                                    lambda rec: rec.key == merge_id.encode(), expect=1, timeout=30)
        assert header(record, "ce_type") == "ic.account.merged.v1"
        await publish_raw(suite.kafka_bootstrap, "ic.account-merges.v1", record.value, key=record.key,
                          headers=record.headers)
        await objects_for(client, suite, target.account_id, target.phone, 1)     # created after the merge
        merged_and_new = await stable(counts, target.account_id, at_least(1))
        new_alerts = sorted(set(await answers.alerts(target.account_id)) - set(both))

        r = await client.post(suite.url("identity", f"/v1/merges/{merge_id}/unmerge"), headers=supervisor)
        assert r.status_code == 200 and r.json()["status"] == "unmerged", r.text
        await settled(counts, {target.account_id: plus(merged_and_new, of_source, -1), source.account_id: of_source})
        await answers.until(facts[source.account_id], answers.facts, source.account_id)
        created = {k: facts[target.account_id][k] + 1 for k in ("open_callbacks", "contacts_last_7d", "contacts_last_30d")}
        await answers.until({**facts[target.account_id], **created}, answers.facts, target.account_id)  # made after
        assert await answers.alerts(source.account_id) == alerts[source.account_id]
        assert await answers.alerts(target.account_id) == sorted(alerts[target.account_id] + new_alerts)
        assert await answers.candidate_lists() == lists
        after = await counts.versions([target.account_id, source.account_id])
        assert {key: after[key] for key in versions[source.account_id]} == {
            key: version + 2 for key, version in versions[source.account_id].items()}
        assert {key: after[key] for key in versions[target.account_id]} == versions[target.account_id]
        moved_facts = {"open_callbacks": facts[source.account_id]["open_callbacks"], "overdue_followups": 0}
        for service in {service for service, _ in COLLECTIONS.values()}:
            kept = await counts.client[suite.database(service)]["account_merges"].find_one({"_id": merge_id})
            moved = {kind: of_source[kind] for kind, (owner, _) in COLLECTIONS.items() if owner == service}
            moved.update(moved_facts if service == "alerts" else {})
            assert kept is not None and (kept["status"], kept["counts"]) == ("unmerged", moved)
        audit = await client.get(suite.url("identity", f"/v1/merges/{merge_id}"), headers=supervisor)
        assert audit.json()["merged_by"] == "sup-1" and audit.json()["unmerged_by"] == "sup-1"
    REPORT.setdefault("stories passed", []).append("merge and unmerge")


async def test_the_duplicate_report_finds_seeded_pairs_and_not_distinct_accounts(suite) -> None:
    postcode = str(10000 + int(unique("p").split("-")[1][:6], 16) % 89999)
    here, elsewhere = (Address(street="Lindenallee 12", postcode=postcode, city="Köln", country="DE"),
                       Address(street="Birkenweg 3", postcode=postcode, city="Köln", country="DE"))
    ids = {name: unique(f"acc-{name}") for name in ("mail1", "mail2", "name1", "name2", "distinct")}
    mail = f"{unique('dup')}@example.org"
    accounts = [
        AccountUpserted(account_id=ids["mail1"], source_version=1, kind="person", name="Jana Kowalski",
                        emails=[mail], address=elsewhere),
        AccountUpserted(account_id=ids["mail2"], source_version=1, kind="person", name="J. Kowalska-Berg",
                        emails=[mail]),
        AccountUpserted(account_id=ids["name1"], source_version=1, kind="person", name="Friedrich Oberländer",
                        address=here),
        AccountUpserted(account_id=ids["name2"], source_version=1, kind="person", name="Friedrich Oberlander",
                        address=Address(street="Lindenallee  12", postcode=postcode, city="Köln", country="DE")),
        AccountUpserted(account_id=ids["distinct"], source_version=1, kind="person", name="Zofia Brzęczyszczykiewicz",
                        address=elsewhere),
    ]
    await publish_envelopes(suite.kafka_bootstrap, *(new_envelope(a, source="/erp") for a in accounts))
    supervisor = headers(suite, "sup-1", "supervisor")
    async with httpx.AsyncClient(timeout=15) as client:
        async def report() -> dict[tuple[str, ...], str] | None:
            pairs, cursor = {}, None
            while True:
                r = await client.get(suite.url("identity", "/v1/accounts/duplicates"), headers=supervisor,
                                     params={"limit": 200, **({"cursor": cursor} if cursor else {})})
                assert r.status_code == 200, r.text
                pairs.update({tuple(p["account_ids"]): p["reason"] for p in r.json()["items"]})
                cursor = r.json()["next_cursor"]
                if cursor is None:
                    break
            wanted = {tuple(sorted((ids["mail1"], ids["mail2"]))), tuple(sorted((ids["name1"], ids["name2"])))}
            return pairs if wanted <= set(pairs) else None

        pairs = await eventually(report, timeout=60, interval=0.5)
    assert pairs[tuple(sorted((ids["mail1"], ids["mail2"])))] == "same_email"
    assert pairs[tuple(sorted((ids["name1"], ids["name2"])))] == "similar_name_same_address"
    assert not [pair for pair in pairs if ids["distinct"] in pair]
    agent = headers(suite, "a-1", "agent")
    async with httpx.AsyncClient(timeout=15) as client:
        refused = await client.get(suite.url("identity", "/v1/accounts/duplicates"), headers=agent)
    assert refused.status_code == 403
