"""Absence rules on the in-memory store: pending until due, cancelled by an `unless` event of the same
aggregate, raised exactly once by the due job however many replicas run it."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.testing import SettableClock
from icsuite_contracts.callbacks_v1 import CallbackClaimed, CallbackQueued
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactEnded
from icsuite_contracts.identity_v1 import ContactIdentified
from icsuite_contracts.testing import sample_event

from icsuite_alerts.domain.rules import STANDARD_RULES, Absence, RuleInvalid, RuleSpec

pytestmark = [pytest.mark.unit]
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def spec(**overrides) -> RuleSpec:
    fields = {"name": "unclaimed", "triggers": ("ic.callback.queued.v1",), "condition": "true", "severity": "warning",
              "message": "callback {event.callback_id} unclaimed", "target": "supervisors", "dedupe_window_s": 0,
              "after": Absence(60, ("ic.callback.claimed.v1",))}
    return RuleSpec(**{**fields, **overrides})


def callback_event(model, callback_id: str, at: datetime, event_id: str | None = None):
    data = sample_event(model).model_copy(update={"callback_id": callback_id, "account_id": None})
    return new_envelope(data, source="/test", time=at, correlation_id=f"req-{callback_id}", id=event_id)


async def service(make_service, clock, *, twin=None):
    svc = make_service(clock, twin_of=twin)
    if twin is None:
        await svc.create_rule(spec(), by="admin-1")
    await svc.cache.refresh(force=True)
    return svc


async def test_an_unclaimed_callback_alerts_the_supervisors_once_when_due(make_service) -> None:
    clock = SettableClock(T0)
    svc = await service(make_service, clock)
    await svc.on_event(callback_event(CallbackQueued, "cb-1", T0))
    assert svc.alerts.documents == {} and await svc.raise_due_absences() == 0  # not due yet
    clock.now = T0 + timedelta(seconds=61)
    assert await svc.raise_due_absences() == 1
    [alert] = svc.alerts.documents.values()
    assert (alert["target"], alert["message"], alert["raised_at"]) == ("supervisors", "callback cb-1 unclaimed",
                                                                      T0 + timedelta(seconds=60))
    assert await svc.raise_due_absences() == 0 and len(svc.alerts.documents) == 1
    assert [e.type for e in svc.alerts.published()] == ["ic.alert.raised.v1"]


async def test_a_claim_in_time_cancels_and_a_late_one_does_not(make_service) -> None:
    clock = SettableClock(T0)
    svc = await service(make_service, clock)
    await svc.on_event(callback_event(CallbackQueued, "cb-1", T0))
    await svc.on_event(callback_event(CallbackQueued, "cb-2", T0))
    await svc.on_event(callback_event(CallbackClaimed, "cb-1", T0 + timedelta(seconds=30)))  # in time
    await svc.on_event(callback_event(CallbackClaimed, "cb-2", T0 + timedelta(seconds=90)))  # too late
    await svc.on_event(callback_event(CallbackClaimed, "cb-9", T0 + timedelta(seconds=10)))  # another aggregate
    clock.now = T0 + timedelta(minutes=5)
    assert await svc.raise_due_absences() == 1
    [alert] = svc.alerts.documents.values()
    assert "cb-2" in alert["message"]
    statuses = sorted(d["status"] for d in svc.absences.documents.values())
    assert statuses == ["cancelled", "raised"]


async def test_replicas_running_the_due_job_at_once_raise_once(make_service) -> None:
    clock = SettableClock(T0)
    first = await service(make_service, clock)
    second = await service(make_service, clock, twin=first)
    for svc in (first, second):
        for store in (svc.absences, svc.alerts, svc.dedupe):
            store.before_write = lambda: asyncio.sleep(0)
    events = [callback_event(CallbackQueued, f"cb-{i}", T0) for i in range(5)]
    await asyncio.gather(*(svc.on_event(e) for e in events for svc in (first, second)))  # and a redelivery
    assert len(first.absences.documents) == 5
    clock.now = T0 + timedelta(minutes=2)
    await asyncio.gather(first.raise_due_absences(), second.raise_due_absences(), first.raise_due_absences())
    assert len(first.alerts.documents) == 5
    assert len([e for e in first.alerts.published() if e.type == "ic.alert.raised.v1"]) == 5
    assert sorted(first.stream._entries.documents) == list(range(1, 6))


async def test_an_absence_of_a_rule_deleted_meanwhile_raises_nothing(make_service) -> None:
    clock = SettableClock(T0)
    svc = await service(make_service, clock)
    await svc.on_event(callback_event(CallbackQueued, "cb-1", T0))
    [rule] = await svc.rule_queries.all()
    await svc.delete_rule(rule.rule.rule_id)
    clock.now = T0 + timedelta(minutes=2)
    assert await svc.raise_due_absences() == 0 and svc.alerts.documents == {}


def test_the_standard_rules_include_the_unclaimed_callback_sla() -> None:
    [sla] = [r for r in STANDARD_RULES if r.rule_id == "std-callback-unclaimed"]
    assert sla.spec.after == Absence(1800, ("ic.callback.claimed.v1",)) and sla.spec.target == "supervisors"


async def test_the_sla_counts_30_wall_minutes_from_when_the_callback_became_workable(make_service) -> None:
    """A callback announced outside business hours (``scheduled_for``) starts no clock; its queued event at
    the opening does, and the alert comes 30 wall minutes after that."""
    clock = SettableClock(T0)
    svc = make_service(clock)
    await svc.seed_standard_rules()
    opening = T0 + timedelta(hours=14)
    scheduled = callback_event(CallbackQueued, "cb-night", T0)
    assert scheduled.data.scheduled_for is not None
    await svc.on_event(scheduled)
    clock.now = T0 + timedelta(hours=2)
    assert await svc.raise_due_absences() == 0 and svc.absences.documents == {}
    data = sample_event(CallbackQueued).model_copy(update={"callback_id": "cb-night", "account_id": None,
                                                           "scheduled_for": None})
    await svc.on_event(new_envelope(data, source="/test", time=opening, correlation_id="req-cb-night"))
    clock.now = opening + timedelta(minutes=29)
    assert await svc.raise_due_absences() == 0
    clock.now = opening + timedelta(minutes=31)
    assert await svc.raise_due_absences() == 1
    [alert] = [a for a in svc.alerts.documents.values() if a["rule_id"] == "std-callback-unclaimed"]
    assert alert["raised_at"] == opening + timedelta(minutes=30) and alert["target"] == "supervisors"


@pytest.mark.parametrize(("after", "field"), [(Absence(0, ("ic.callback.claimed.v1",)), "after.within_s"),
                                              (Absence(60, ()), "after.unless"),
                                              (Absence(60, ("ic.nothing.v1",)), "after.unless")])
async def test_invalid_absences_are_refused(make_service, after, field) -> None:
    svc = make_service(SettableClock(T0))
    with pytest.raises(RuleInvalid) as refused:
        await svc.create_rule(spec(after=after), by="admin-1")
    assert refused.value.field == field


def identified(contact_id: str, *, confirmed: bool, at: datetime, account_id: str | None = "acc-1"):
    data = ContactIdentified(contact_id=contact_id, account_id=account_id, method="agent_search",
                             confirmed=confirmed, agent_id="a-7")
    return new_envelope(data, source="/test", time=at, correlation_id=contact_id)


def ended(contact_id: str, at: datetime):
    data = sample_event(ContactEnded).model_copy(update={"contact_id": contact_id, "ended_at": at})
    return new_envelope(data, source="/test", time=at, correlation_id=contact_id)


async def test_seed_002_reminder_reaches_the_agent_30_s_after_a_confirmation_unless_the_contact_ended(
        make_service) -> None:
    clock = SettableClock(T0)
    svc = make_service(clock)
    await svc.seed_standard_rules()
    [reminder] = [r for r in STANDARD_RULES if r.rule_id == "std-account-confirmed-reminder"]
    assert reminder.spec.after == Absence(30, ("ic.contact.ended.v1",)) and reminder.spec.target == "agent"
    await svc.on_event(identified("ct-1", confirmed=True, at=T0))  # confirmed: reminded
    await svc.on_event(identified("ct-2", confirmed=False, at=T0))  # automatic only: no reminder
    await svc.on_event(identified("ct-3", confirmed=True, at=T0, account_id=None))  # nothing confirmed
    await svc.on_event(identified("ct-4", confirmed=True, at=T0))
    await svc.on_event(ended("ct-4", T0 + timedelta(seconds=20)))  # ended first: no reminder
    clock.now = T0 + timedelta(seconds=29)
    assert await svc.raise_due_absences() == 0
    clock.now = T0 + timedelta(seconds=31)
    assert await svc.raise_due_absences() == 1
    [alert] = [a for a in svc.alerts.documents.values() if a["rule_id"] == reminder.rule_id]
    assert (alert["contact_id"], alert["agent_id"], alert["account_id"]) == ("ct-1", "a-7", "acc-1")
    assert alert["message"].startswith("Account acc-1 confirmed: review its alerts")
    assert alert["raised_at"] == T0 + timedelta(seconds=30)


async def test_the_due_job_waits_for_the_earliest_due_time_and_a_new_absence_wakes_it(make_service) -> None:
    """The job's round sleeps until the earliest pending due time (bounded by absence_check_interval_s), not a
    fixed interval: with the clock at the due time it raises at once; a new absence ends its wait early."""
    clock = SettableClock(T0)
    svc = await service(make_service, clock)
    await svc.on_event(callback_event(CallbackQueued, "cb-1", T0))
    clock.now = T0 + timedelta(seconds=60)  # exactly due: no wait
    assert await svc.raise_absences_when_due() == 1
    clock.now = T0 + timedelta(seconds=61)
    svc.settings.absence_check_interval_s = 3600.0  # nothing pending: it would wait this long
    waiting = asyncio.create_task(svc.raise_absences_when_due())
    await asyncio.sleep(0)
    assert not waiting.done()
    await svc.on_event(callback_event(CallbackQueued, "cb-2", clock.now))  # wakes it to plan again
    assert await asyncio.wait_for(waiting, timeout=30) == 0
    clock.now += timedelta(seconds=60)
    assert await svc.raise_absences_when_due() == 1


@pytest.mark.parametrize(("claim_arrives", "raised"), [("after", 0), ("before", 1)])
async def test_a_backtest_replays_a_trigger_and_its_unless_event_of_one_millisecond_in_arrival_order(
        make_service, claim_arrives, raised) -> None:
    """The claim's id sorts before its queued event's and both carry the same millisecond: the replay goes by
    the order the service took them in, as the live path did (issue 17), not by id."""
    clock = SettableClock(T0 + timedelta(minutes=5))
    svc = await service(make_service, clock)
    queued, claimed = callback_event(CallbackQueued, "cb-1", T0, "evt-b"), callback_event(CallbackClaimed, "cb-1", T0, "evt-a")
    for event in ((queued, claimed) if claim_arrives == "after" else (claimed, queued)):
        await svc.on_event(event)
    assert await svc.raise_due_absences() == raised  # the live path
    backtest = await svc.backtest(spec(), start=T0 - timedelta(minutes=1), end=T0 + timedelta(minutes=1))
    assert (len(backtest.matches), backtest.absences_undecided) == (raised, 0)


async def test_the_event_log_numbers_events_in_arrival_order_and_a_redelivery_keeps_its_first_number(
        make_service) -> None:
    svc = make_service(SettableClock(T0))
    first, second, third = (callback_event(CallbackQueued, f"cb-{n}", T0, f"evt-{3 - n}") for n in range(3))
    await svc.event_log.keep([first, second])
    await svc.event_log.keep([third, first])  # the first again: redelivered
    replayed = [obs.event_id async for obs in svc.event_log.kept(until=T0, limit=10)]
    assert replayed == ["evt-3", "evt-2", "evt-1"]
    assert [svc.event_log.writer.store.documents[e]["arrival"] for e in replayed] == [1, 2, 3]
