"""The handlers on the in-memory aggregate store: intake, the one claim path (exactly once under contention,
across replicas), the abuse guard, identification, the scheduler and the profiles."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.errors import RateLimitedError
from icsuite_chassis.store import InMemoryAggregateStore
from icsuite_chassis.testing import SettableClock
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.identity_v1 import CallerIdentified

from icsuite_callbacks import handlers
from icsuite_callbacks.domain import (
    SEED_PROFILES, Actor, CallbackNotFound, CallbackRequest, ReasonProfile, TooManyOpenRequests, WrongState,
)
from icsuite_callbacks.domain import lifecycle as lc
from icsuite_callbacks.handlers import CallbacksService
from icsuite_callbacks.jobs import run_due_transitions
from icsuite_callbacks.projections import Identifications
from icsuite_callbacks.repository import COLLECTION, PROFILES, QUEUED, SLOTS, ProfileCodec, SlotsCodec, WorkItemCodec

pytestmark = [pytest.mark.unit]
NOW = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)


def service(clock: SettableClock | None = None, *, interleave: bool = True) -> CallbacksService:
    items = InMemoryAggregateStore(COLLECTION, WorkItemCodec(), queue=QUEUED)
    if interleave:  # every write yields to the other coroutines first, so that reads and writes interleave
        items.before_write = lambda: asyncio.sleep(0)
    return CallbacksService(items=items, profiles=InMemoryAggregateStore(PROFILES, ProfileCodec()),
                            slots=InMemoryAggregateStore(SLOTS, SlotsCodec()),
                            identifications=Identifications.in_memory(), clock=clock or SettableClock(NOW))


def replica_of(svc: CallbacksService) -> CallbacksService:
    """A second replica: the same documents, its own claims in flight."""
    items = svc.items.shared_with()  # type: ignore[attr-defined]
    items.before_write = svc.items.before_write
    return CallbacksService(items=items, profiles=svc.profiles, slots=svc.slots,
                            identifications=svc.identifications, clock=svc.clock)


def request(n: int, **fields) -> CallbackRequest:
    return CallbackRequest(**{"request_id": f"cbr-{n}", "callback_number": f"+49301234{n:04d}", "channel": "web",
                              "account_id": f"acc-{n}", **fields})


async def queue(svc: CallbacksService, count: int, **fields) -> list[str]:
    return [(await handlers.submit_request(svc, request(n, **fields))).callback_id for n in range(count)]


def claimed_events(svc: CallbacksService) -> Counter[str]:
    return Counter(e.data.callback_id for e in svc.items.published() if e.type == "ic.callback.claimed.v1")


async def test_a_request_becomes_one_queued_item_and_a_repeat_changes_nothing() -> None:
    svc = service()
    item = await handlers.submit_request(svc, request(1))
    assert (item.status, item.routing.profile) == ("queued", "default")
    assert await handlers.submit_request(svc, request(1)) == item
    assert [e.type for e in svc.items.published()] == ["ic.callback.queued.v1"]
    with pytest.raises(CallbackNotFound):
        await handlers.claim(svc, "cbr-unknown", lc.Claim(Actor("anna")))


async def test_fifty_agents_claim_two_hundred_items_each_exactly_once() -> None:
    svc = service()
    created = await queue(svc, 200)
    svc.items.published()

    async def agent(n: int) -> list[str]:
        mine = []
        while (item := await handlers.claim_next(svc, Actor(f"agent-{n}"))) is not None:
            assert item.owner == f"agent-{n}" and item.status == "claimed"
            mine.append(item.callback_id)
        return mine

    results = await asyncio.gather(*(agent(n) for n in range(50)))
    every = [c for mine in results for c in mine]
    assert sorted(every) == sorted(created)                    # every item once, none twice
    assert sum(1 for mine in results if mine) > 1              # the agents really competed
    assert claimed_events(svc) == Counter(created)              # one claimed event per item


async def test_two_replicas_racing_for_the_same_items_give_each_item_one_owner() -> None:
    first = service()
    second = replica_of(first)
    created = await queue(first, 60)
    first.items.published()

    async def agent(svc: CallbacksService, agent_id: str) -> list[str]:
        mine = []
        while (item := await handlers.claim_next(svc, Actor(agent_id))) is not None:
            mine.append(item.callback_id)
        return mine

    results = await asyncio.gather(*(agent(first if n % 2 else second, f"r-{n}") for n in range(20)))
    every = [c for mine in results for c in mine]
    assert sorted(every) == sorted(created)
    assert claimed_events(first) == Counter(created)


async def test_an_item_claimed_by_another_replica_between_read_and_write_is_skipped() -> None:
    svc = service(interleave=False)
    other = replica_of(svc)
    first, second = await queue(svc, 2)

    async def meanwhile() -> None:
        svc.items.before_write = None
        await handlers.claim(other, first, lc.Claim(Actor("ben")))

    svc.items.before_write = meanwhile
    item = await handlers.claim_next(svc, Actor("anna"))
    assert item is not None and item.callback_id == second and item.owner == "anna"
    assert (await handlers.get_callback(svc, first)).owner == "ben"
    assert claimed_events(svc) == Counter([first, second])


async def test_claim_next_takes_by_priority_then_due_time_skips_what_is_not_workable_and_ends_empty() -> None:
    clock = SettableClock(NOW)
    svc = service(clock)
    await handlers.put_profile(svc, ReasonProfile("urgent", "callback", 9, 60, "general", None, 3, 60.0))
    late = (await handlers.submit_request(svc, request(1, preferred_to=NOW + timedelta(hours=5)))).callback_id
    soon = (await handlers.submit_request(svc, request(2, preferred_to=NOW + timedelta(minutes=30)))).callback_id
    urgent = (await handlers.submit_request(svc, request(3, reason_code="urgent"))).callback_id
    later = (await handlers.submit_request(svc, request(4, preferred_from=NOW + timedelta(hours=1)))).callback_id
    page = await handlers.general_inbox(svc, Actor("anna"), 10, None)
    assert [i.callback_id for i in page] == [urgent, soon, late]
    taken = [(await handlers.claim_next(svc, Actor("anna"))).callback_id for _ in range(3)]
    assert taken == [urgent, soon, late]
    assert await handlers.claim_next(svc, Actor("anna")) is None       # ``later`` is not open yet
    clock.now = NOW + timedelta(hours=1)
    await run_due_transitions(svc)
    assert (await handlers.claim_next(svc, Actor("ben"))).callback_id == later


async def test_a_number_keeps_at_most_three_open_requests_until_one_closes() -> None:
    svc = service()
    number = {"callback_number": "+4930999888"}
    ids = [(await handlers.submit_request(svc, request(n, **number))).callback_id for n in range(3)]
    with pytest.raises(TooManyOpenRequests):
        await handlers.submit_request(svc, request(3, **number))
    assert await svc.items.get("cbr-3") is None                                   # nothing stored
    await handlers.cancel(svc, ids[0], lc.Cancel(Actor("web", channel=True)))
    assert (await handlers.submit_request(svc, request(3, **number))).status == "queued"


async def test_concurrent_requests_for_one_number_never_exceed_three() -> None:
    svc = service()
    results = await asyncio.gather(*(handlers.submit_request(svc, request(n, callback_number="+4930999777"))
                                     for n in range(8)), return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 3
    assert all(isinstance(r, RateLimitedError) for r in results if isinstance(r, Exception))  # slots or rate: 429


def identified(request_id: str, account_id: str | None, *candidates: str):
    return new_envelope(CallerIdentified(request_id=request_id, callback_number="+4930123400", account_id=account_id,
                                         candidates=list(candidates)), source="/identity")


async def test_identification_before_or_after_the_request_and_a_redelivery_changes_nothing() -> None:
    svc = service()
    early = identified("cbr-1", "acc-9", "acc-9")
    await handlers.callers_identified(svc, [early])
    item = await handlers.submit_request(svc, request(1, account_id=None))
    assert (item.status, item.identification, item.account_id) == ("queued", "identified", "acc-9")
    waiting = await handlers.submit_request(svc, request(2, account_id=None))
    assert (waiting.status, waiting.identification) == ("scheduled", "pending")
    late = identified("cbr-2", None, "acc-1", "acc-2")
    for _ in range(2):
        await handlers.callers_identified(svc, [late])
    item = await handlers.get_callback(svc, "cbr-2")
    assert (item.status, item.identification, item.candidates) == ("queued", "unidentified", ("acc-1", "acc-2"))
    queued = [e for e in svc.items.published() if e.type == "ic.callback.queued.v1"]
    assert Counter(e.data.callback_id for e in queued) == Counter(["cbr-1", "cbr-2"])


async def test_the_scheduler_ends_waits_and_expires_items_once() -> None:
    clock = SettableClock(NOW)
    svc = service(clock)
    waiting = await handlers.submit_request(svc, request(1, account_id=None))
    short = await handlers.submit_request(svc, request(2, preferred_to=NOW + timedelta(minutes=10)))
    clock.now = NOW + timedelta(seconds=6)
    assert (await run_due_transitions(svc))["identification_ended"] == 1
    assert (await handlers.get_callback(svc, waiting.callback_id)).identification == "unidentified"
    clock.now = NOW + timedelta(minutes=10)
    assert (await run_due_transitions(svc))["expired"] == 1
    assert (await run_due_transitions(svc))["expired"] == 0
    assert (await handlers.get_callback(svc, short.callback_id)).status == "expired"
    with pytest.raises(WrongState):
        await handlers.claim(svc, short.callback_id, lc.Claim(Actor("anna")))


async def test_profiles_are_seeded_once_and_an_admins_edit_is_kept() -> None:
    svc = service()
    await handlers.seed_profiles(svc)
    edited = ReasonProfile("outage", "technical_callback", 9, 30, "technical", "grid", 5, 300.0)
    assert await handlers.put_profile(svc, edited) is False
    assert await handlers.put_profile(svc, ReasonProfile("new", "callback", 1, 60, "general", None, 3, 60.0))
    await handlers.seed_profiles(svc)
    assert await handlers.get_profile(svc, "outage") == edited
    assert len(await handlers.list_profiles(svc)) == len(SEED_PROFILES) + 1


async def test_intake_is_limited_per_caller_and_per_number_and_nothing_is_stored_when_refused() -> None:
    from icsuite_callbacks.domain.rates import IntakeRateLimited, RateLimit

    svc = service()
    svc.caller_limit, svc.number_limit = RateLimit("caller", 3, 60), RateLimit("number", 2, 3600)
    for n in range(3):
        await handlers.submit_request(svc, request(n), caller="web-site")
    with pytest.raises(IntakeRateLimited):
        await handlers.submit_request(svc, request(3), caller="web-site")
    assert await svc.items.get("cbr-3") is None
    await handlers.submit_request(svc, request(4, callback_number="+4930555111"), caller="other")
    await handlers.submit_request(svc, request(5, callback_number="+4930555111"), caller="another")
    with pytest.raises(IntakeRateLimited):
        await handlers.submit_request(svc, request(6, callback_number="+4930555111"), caller="a-third")


async def test_dial_account_uses_the_newest_master_data_snapshot_of_the_account() -> None:
    from icsuite_contracts.masterdata_v1 import Address, AccountUpserted

    svc = service()
    def snapshot(version: int, *phones: str):
        return new_envelope(AccountUpserted(account_id="acc-1", source_version=version, kind="person", name="Erika",
                                            phones=list(phones), address=Address(street="Hauptstr. 5", postcode="10115",
                                                                                 city="Berlin", country="DE")),
                            source="/billing")
    await handlers.masterdata_changed(svc, [snapshot(2, "030 1234567", "+4915112345678"), snapshot(1, "+4940999999")])
    item = await handlers.submit_request(svc, request(1))
    await handlers.claim(svc, item.callback_id, lc.Claim(Actor("anna")))
    started = await handlers.start(svc, item.callback_id, lc.Start(Actor("anna"), "account", "+4915112345678"))
    assert (started.dial_number, started.dial_source) == ("+4915112345678", "account")
    assert await svc.accounts.of("acc-1") == ("+49301234567", "+4915112345678")   # national numbers as E.164


async def test_a_due_follow_up_becomes_one_item_in_its_owners_inbox_dialling_the_accounts_number() -> None:
    from icsuite_contracts.followups_v1 import FollowupDue
    from icsuite_contracts.masterdata_v1 import AccountUpserted

    from icsuite_callbacks.domain import InvalidRequest
    from icsuite_callbacks.domain.intake import DueFollowup

    svc = service()
    await handlers.masterdata_changed(svc, [new_envelope(AccountUpserted(
        account_id="acc-7", source_version=1, kind="person", name="Erika", phones=["+4940111111"]), source="/billing")])
    event = FollowupDue(followup_id="fu-1", account_id="acc-7", owner_id="anna", type="phone_call",
                        planned_start=NOW)
    envelope = new_envelope(event, source="/followups")
    due = DueFollowup("fu-1", "acc-7", "anna", "phone_call", NOW)
    for _ in range(2):   # delivered twice
        await handlers.followup_due(svc, due, envelope)
    [item] = await handlers.agent_inbox(svc, "anna", Actor("anna"), 10, None)
    assert (item.channel, item.status, item.owner, item.callback_number) == ("followup", "claimed", "anna",
                                                                             "+4940111111")
    assert [e.type for e in svc.items.published()] == ["ic.callback.queued.v1", "ic.callback.claimed.v1"]
    started = await handlers.start(svc, item.callback_id, lc.Start(Actor("anna"), "account"))
    assert started.dial_number == "+4940111111"
    with pytest.raises(InvalidRequest):
        await handlers.followup_due(svc, DueFollowup("fu-2", "acc-unknown", "anna", "phone_call", NOW), envelope)
