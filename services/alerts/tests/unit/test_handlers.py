"""Handlers on the in-memory store: raising exactly once (redelivery, racing replicas), the stream's
positions without gaps, acknowledging, agent-less alerts, rules and their versions, seeding."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.store import Change
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.identity_v1 import ContactIdentified

from icsuite_alerts.domain.alerts import StreamEntry
from icsuite_alerts.domain.errors import AlertNotFound, AlertNotOpen, RuleNotFound
from icsuite_alerts.domain.rules import STANDARD_RULES, RuleInvalid, RuleSpec

pytestmark = [pytest.mark.unit]
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TRIGGER = "ic.identity.contact-identified.v1"


def clock() -> datetime:
    return T0


def identified(contact: str, account: str = "acc-1", *, agent: str | None = "a-1", at: datetime = T0):
    data = ContactIdentified(contact_id=contact, account_id=account, method="auto_number", confirmed=False,
                             agent_id=agent)
    return new_envelope(data, source="/test", time=at, correlation_id=contact)


def spec(**overrides) -> RuleSpec:
    fields = {"name": "seen", "triggers": (TRIGGER,), "condition": "true", "severity": "info",
              "message": "seen {event.contact_id}", "target": "agent", "dedupe_window_s": 600}
    return RuleSpec(**{**fields, **overrides})


async def service_with_rule(make_service, **overrides):
    svc = make_service(clock)
    await svc.cache.refresh(force=True)
    record = await svc.create_rule(spec(**overrides), by="admin-1")
    return svc, record.rule.rule_id


def raised(svc) -> list:
    return [e for e in svc.alerts.published() if e.type == "ic.alert.raised.v1"]


def entries(svc) -> dict[int, str]:
    return {p: d["alert_id"] for p, d in svc.stream._entries.documents.items() if d.get("alert_id")}


async def test_an_event_raises_one_alert_with_its_event_and_one_stream_position(make_service) -> None:
    svc, rule_id = await service_with_rule(make_service)
    await svc.on_event(identified("ct-1"))
    [alert] = [a for a in svc.alerts.documents.values()]
    assert (alert["rule_id"], alert["agent_id"], alert["position"]) == (rule_id, "a-1", 1)
    assert [e.data.alert_id for e in raised(svc)] == [alert["alert_id"]]
    assert entries(svc) == {1: alert["alert_id"]} and svc.stream.position == 1


@pytest.mark.parametrize("window_s", [0, 600])  # 0: no claim, the alert's own id de-duplicates
async def test_a_redelivered_event_raises_nothing_twice(make_service, window_s) -> None:
    svc, _ = await service_with_rule(make_service, dedupe_window_s=window_s)
    event = identified("ct-1")
    for _ in range(3):
        await svc.on_event(event)
    assert len(svc.alerts.documents) == 1 and len(raised(svc)) == 1 and len(entries(svc)) == 1


@pytest.mark.parametrize("window_s", [0, 600])  # 0: no claim, the alert's own id de-duplicates
async def test_racing_replicas_raise_once_and_leave_no_gap(make_service, window_s) -> None:
    first, _ = await service_with_rule(make_service, dedupe_window_s=window_s)
    second = make_service(clock, twin_of=first)
    await second.cache.refresh(force=True)
    for svc in (first, second):  # every write yields first, so that the replicas interleave
        for store in (svc.alerts, svc.dedupe, svc.stream._entries):
            store.before_write = lambda: asyncio.sleep(0)
    events = [identified(f"ct-{i}") for i in range(12)]
    await asyncio.gather(*(svc.on_event(e) for e in events for svc in (first, second)))
    assert len(first.alerts.documents) == 12
    assert len(raised(first)) == 12  # one outbox event per alert, whichever replica wrote it
    taken = entries(first)
    assert sorted(taken) == list(range(1, 13)) and len(set(taken.values())) == 12
    assert all(first.alerts.documents[a]["position"] == p for p, a in taken.items())


async def test_a_position_taken_by_another_alert_moves_the_alert_to_the_next_free_one(make_service) -> None:
    svc, _ = await service_with_rule(make_service)
    entry = {"alert_id": "al-other", "agent_id": "a-9", "target": "agent", "alert": {"alert_id": "al-other"}}
    svc.stream._entries.put_raw({"_id": 1, "_version": 1, **entry})  # written by a replica this one has not seen
    await svc.on_event(identified("ct-1"))
    [alert] = list(svc.alerts.documents.values())
    assert alert["position"] == 2 and entries(svc) == {1: "al-other", 2: alert["alert_id"]}


async def test_the_window_refuses_a_repeat_and_allows_one_after_it(make_service) -> None:
    svc, _ = await service_with_rule(make_service, dedupe_window_s=600)
    await svc.on_event(identified("ct-1"))
    await svc.on_event(identified("ct-1", at=T0 + timedelta(seconds=300)))
    assert len(svc.alerts.documents) == 1
    await svc.on_event(identified("ct-1", at=T0 + timedelta(seconds=601)))
    await svc.on_event(identified("ct-2", at=T0 + timedelta(seconds=10)))  # another contact: its own window
    assert len(svc.alerts.documents) == 3
    claim = svc.dedupe.documents[next(iter(svc.dedupe.documents))]
    assert claim["expires_at"] - claim["last_at"] == timedelta(seconds=600 + svc.settings.dedupe_keep_s)


async def test_a_rule_without_a_window_claims_nothing_and_raises_once_per_trigger(make_service) -> None:
    svc, _ = await service_with_rule(make_service, dedupe_window_s=0)
    later, earlier = identified("ct-1", at=T0 + timedelta(seconds=5)), identified("ct-1")
    for event in (later, earlier, later, earlier):  # the older trigger arriving last raises too; repeats do not
        await svc.on_event(event)
    assert svc.dedupe.documents == {}
    assert {a["trigger_event_id"] for a in svc.alerts.documents.values()} == {later.id, earlier.id}
    assert len(raised(svc)) == 2 and sorted(entries(svc)) == [1, 2]


async def test_an_alert_is_acknowledged_once(make_service) -> None:
    svc, _ = await service_with_rule(make_service)
    await svc.on_event(identified("ct-1"))
    alert_id = next(iter(svc.alerts.documents))
    svc.alerts.published()
    acknowledged = await svc.acknowledge(alert_id, by="a-1")
    assert (acknowledged.status, acknowledged.acknowledged_by) == ("acknowledged", "a-1")
    assert [e.type for e in svc.alerts.published()] == ["ic.alert.acknowledged.v1"]
    with pytest.raises(AlertNotOpen):
        await svc.acknowledge(alert_id, by="a-1")
    with pytest.raises(AlertNotFound):
        await svc.acknowledge("al-none", by="a-1")
    assert svc.alerts.published() == []


async def test_an_agentless_alert_reaches_the_agent_once_it_is_known(make_service) -> None:
    svc, _ = await service_with_rule(make_service)
    await svc.on_event(identified("ct-1", agent=None))
    alert_id = next(iter(svc.alerts.documents))
    assert svc.alerts.documents[alert_id]["agent_id"] is None
    segment = identified("ct-1", agent="a-7", at=T0 + timedelta(seconds=5))
    for _ in range(2):  # and its redelivery
        await svc.on_event(segment)
    alert = svc.alerts.documents[alert_id]
    assert (alert["agent_id"], alert["position"], alert["former_positions"]) == ("a-7", 2, [1])
    mine = [p for p, d in svc.stream._entries.documents.items() if d.get("agent_id") == "a-7" and d["alert_id"] == alert_id]
    assert mine == [2]


async def test_rules_keep_their_versions_and_a_deleted_rule_is_gone(make_service) -> None:
    svc, rule_id = await service_with_rule(make_service)
    assert rule_id in {c.rule.rule_id for cs in svc.cache.book.by_trigger.values() for c in cs}
    replaced = await svc.replace_rule(rule_id, spec(name="renamed"), by="admin-2")
    assert (replaced.rule.version, replaced.rule.spec.name, replaced.updated_by) == (2, "renamed", "admin-2")
    assert [h["version"] for h in (await svc.rule(rule_id, history=True)).history] == [1, 2]
    with pytest.raises(RuleInvalid):
        await svc.replace_rule(rule_id, spec(condition="facts.nope > 1"), by="admin-2")
    await svc.delete_rule(rule_id, by="admin-1")
    assert svc.cache.book.count == 0
    for attempt in (svc.rule(rule_id), svc.delete_rule(rule_id), svc.replace_rule(rule_id, spec(), by="x")):
        with pytest.raises(RuleNotFound):
            await attempt


async def test_standard_rules_are_seeded_once_and_a_deleted_one_stays_deleted(make_service) -> None:
    first = make_service(clock)
    second = make_service(clock, twin_of=first)
    await asyncio.gather(first.seed_standard_rules(), second.seed_standard_rules())
    assert {r.rule.rule_id for r in await first.rule_queries.all()} == {r.rule_id for r in STANDARD_RULES}
    assert all(h[0]["version"] == 1 for h in [r.history for r in await first.rule_queries.all()] if h)
    await first.delete_rule("std-high-balance")
    await second.seed_standard_rules()
    assert "std-high-balance" not in {r.rule.rule_id for r in await second.rule_queries.all()}


async def test_a_database_seeded_by_an_earlier_version_gets_only_the_new_standard_rules(make_service) -> None:
    svc = make_service(clock)
    svc.meta.put_raw({"_id": "seeded", "at": T0})  # the seeding mark of an earlier version, rules deleted since
    await svc.seed_standard_rules()
    original = {"std-dunning-level", "std-third-contact-7d", "std-open-callback", "std-overdue-followup",
                "std-high-balance"}
    assert {r.rule.rule_id for r in await svc.rule_queries.all()} == {r.rule_id for r in STANDARD_RULES} - original


async def test_the_stream_starts_after_the_positions_of_an_earlier_version(make_service) -> None:
    svc, _ = await service_with_rule(make_service)
    old = {"_id": "al-old", "alert_id": "al-old", "position": 41}
    svc.alerts.put_raw(old)
    await svc.stream.start()
    assert svc.stream.position == 41 and svc.stream._entries.documents[41]["alert_id"] is None
    await svc.on_event(identified("ct-1"))
    assert max(entries(svc)) == 42


def test_a_stream_entry_keeps_the_alert_as_delivered() -> None:
    entry = StreamEntry("al-1", {"alert_id": "al-1", "status": "open"})
    assert not entry.base and StreamEntry(None, {}).base
    assert replace(entry, alert={}).alert == {} and Change(entry).events == ()


async def test_a_batch_is_projected_at_once_and_each_event_sees_the_facts_right_after_it(make_service) -> None:
    from decimal import Decimal

    from icsuite_contracts.masterdata_v1 import BusinessAgreementUpserted

    svc, rule_id = await service_with_rule(make_service, condition="facts.balance > 500.0", dedupe_window_s=0)

    def agreement(balance: str, version: int):
        data = BusinessAgreementUpserted(business_agreement_id="ba-1", account_id="acc-1", source_version=version,
                                         balance=Decimal(balance), currency="EUR", dunning_level=0, credit_status="good")
        return new_envelope(data, source="/test", time=T0)

    batch = [identified("ct-1"), agreement("600", 1), identified("ct-2"), agreement("10", 2), identified("ct-3")]
    await svc.on_events(batch)
    alerted = {d["contact_id"] for d in svc.alerts.documents.values() if d["rule_id"] == rule_id}
    assert alerted == {"ct-2"}  # only the contact between the two snapshots saw a balance above 500
    await svc.on_events(batch)  # the whole batch again (redelivered): nothing twice
    assert len(svc.alerts.documents) == 1 and len(svc.event_log.writer.store.documents) == 5


async def test_a_batch_raises_its_alerts_together_in_event_order_each_caused_by_its_event(make_service) -> None:
    svc, _ = await service_with_rule(make_service)
    events = [identified("ct-1"), identified("ct-2"), identified("ct-1", at=T0 + timedelta(seconds=1)),
              identified("ct-3", account="acc-3")]
    writes = []
    change_many = svc.alerts.change_many

    async def counted(items):
        writes.append(len(items))
        return await change_many(items)

    svc.alerts.change_many = counted
    await svc.on_events(events)
    assert writes == [3]  # one store call for the batch; ct-1's second event is inside its window
    by_position = sorted(svc.alerts.documents.values(), key=lambda a: a["position"])
    assert [(a["contact_id"], a["position"]) for a in by_position] == [("ct-1", 1), ("ct-2", 2), ("ct-3", 3)]
    assert [e.causation_id for e in raised(svc)] == [events[0].id, events[1].id, events[3].id]
    assert entries(svc) == {i + 1: a["alert_id"] for i, a in enumerate(by_position)} and svc.stream.position == 3
    await svc.on_events(events)  # redelivered: nothing new (published() answers what came since it was last read)
    assert len(svc.alerts.documents) == 3 and raised(svc) == [] and svc.stream.position == 3
