"""The work done beside the contact stream while the failure test kills the services, and its count.

While the channel simulator publishes contacts, :func:`work` keeps doing, every half second:
- the web channel requests a callback on ``ic.callback-requests.v1`` (each request its own number, so no
  per-number limit refuses it);
- an agent claims the most urgent item of the general inbox (``POST /v1/callbacks/claim-next``);
- an agent creates a call follow-up (each from its own source) planned to come due a few seconds later.

A call that meets a killed gateway gets no answer; its effect may or may not have been stored (the kill
may fall between the write and the answer), so such calls are counted apart. :func:`count` then reads
what happened from the topics: every request queued once, every answered claim one claimed event and no
item claimed twice, every answered follow-up created once and coming due once, and every due call once a
work item in its owner's inbox. "Lost" and "doubled" are computed from those counts, never assumed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from icsuite_chassis.testing import header, read_topic, unique
from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import new_envelope, to_kafka

from e2e_steps import headers, new_phone

DUE_AFTER_S = 6.0
TICK_S = 0.5
AGENTS = ("chaos-a1", "chaos-a2", "chaos-a3")


@dataclass
class WorkLog:
    requests: list[str] = field(default_factory=list)  # request ids the broker acknowledged
    requests_unacknowledged: int = 0  # sent while the broker restarted: maybe written, not counted
    claims: Counter[str] = field(default_factory=Counter)  # callback id -> claims answered 200
    claims_unanswered: int = 0
    followups: dict[str, str] = field(default_factory=dict)  # source id -> follow-up id answered 201
    followups_unanswered: list[str] = field(default_factory=list)  # source ids whose create got no answer
    last_due: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    """When the work began (Kafka record time): an item of an earlier test that was claimed and released
    before, then claimed by this stream, has an older claimed event on the shared topic - not a double."""


async def prepare(suite, reason: str) -> None:
    """A reason profile more urgent than anything else in the general inbox, so claims take these items."""
    admin = headers(suite, "chaos-admin", "admin")
    async with httpx.AsyncClient(timeout=15) as client:
        answer = await client.put(suite.url("callbacks", f"/v1/reason-profiles/{reason}"), headers=admin, json={
            "task_type": "chaos_callback", "priority": 10, "sla_minutes": 60, "queue": "chaos",
            "max_attempts": 3, "retry_delay_seconds": 1})
        assert answer.status_code in (200, 201), answer.text


async def _request(producer: AIOKafkaProducer, log: WorkLog, reason: str) -> None:
    now = datetime.now(UTC)
    request_id = unique("cbr-chaos")
    record = to_kafka(new_envelope(CallbackRequested(
        request_id=request_id, callback_number=new_phone(), reason_code=reason, channel="web",
        preferred_from=now, preferred_to=now + timedelta(hours=2), time_zone="Europe/Berlin", language="de"),
        source="/test/web"))
    try:
        await asyncio.wait_for(producer.send_and_wait(record.topic, record.value, key=record.key,
                                                      headers=record.headers), 30)
    except Exception:  # the broker is restarting: the web channel would tell the customer to retry
        log.requests_unacknowledged += 1
        return
    log.requests.append(request_id)


async def _claim(suite, client: httpx.AsyncClient, log: WorkLog, agent: str) -> None:
    try:
        answer = await client.post(suite.url("callbacks", "/v1/callbacks/claim-next"),
                                   headers=headers(suite, agent, "agent"))
    except httpx.HTTPError:
        log.claims_unanswered += 1
        return
    if answer.status_code == 200:
        log.claims[answer.json()["callback_id"]] += 1
    elif answer.status_code >= 500:
        log.claims_unanswered += 1


async def _followup(suite, client: httpx.AsyncClient, log: WorkLog, account_id: str) -> None:
    source_id = unique("chaos-int")
    planned = datetime.now(UTC) + timedelta(seconds=DUE_AFTER_S)
    try:
        answer = await client.post(suite.url("followups", "/v1/followups"), headers=headers(suite, "chaos-a1", "agent"),
                                   json={"source": {"type": "interaction", "id": source_id}, "type": "phone_call",
                                         "channel": "phone", "account_id": account_id, "owner_id": "chaos-a1",
                                         "planned_start": planned.isoformat()})
    except httpx.HTTPError:
        log.followups_unanswered.append(source_id)
        return
    if answer.status_code == 201:
        log.followups[source_id] = answer.json()["followup_id"]
    else:
        assert answer.status_code >= 500, answer.text  # only a dying gateway may refuse
        log.followups_unanswered.append(source_id)
    log.last_due = max(log.last_due, planned)


async def work(suite, accounts: list[str], reason: str, stop: asyncio.Event) -> WorkLog:
    """Request, claim and plan until ``stop`` is set; what was done and what was answered."""
    log = WorkLog()
    producer = AIOKafkaProducer(bootstrap_servers=suite.kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, connect=2)) as client:
            tick = 0
            while not stop.is_set():
                tick += 1
                await asyncio.gather(_request(producer, log, reason),
                                     _claim(suite, client, log, AGENTS[tick % len(AGENTS)]),
                                     _followup(suite, client, log, accounts[tick % len(accounts)]))
                await asyncio.sleep(TICK_S)
    finally:
        await producer.stop()
    return log


def _data(record: Any) -> dict[str, Any]:
    try:
        return json.loads(record.value)
    except (ValueError, TypeError):
        return {}


def _distinct(records: list[Any], key: str) -> Counter[str]:
    """How many distinct events (by ce_id) each ``key`` value has: a redelivery is not a second effect."""
    events = {header(r, "ce_id"): _data(r).get(key) for r in records}
    return Counter(value for value in events.values() if value is not None)


async def _wait_for(read, expected: int, deadline_s: float) -> list[Any]:
    """Read until ``expected`` distinct events are there or ``deadline_s`` has passed (then what there is)."""
    deadline = time.monotonic() + deadline_s
    while True:
        records = await read(expected, min(15.0, max(1.0, deadline - time.monotonic())))
        if len({header(r, "ce_id") for r in records}) >= expected:
            return await read(10**9, 2.0)  # once more to the end of the topic: a double may lie beyond
        if time.monotonic() > deadline:
            return records
        await asyncio.sleep(1)


def _followup_of(callback_id: str) -> str:
    """The follow-up a due call's work item was made for (its id is ``fu-<follow-up>-<planned start>``)."""
    return callback_id.removeprefix("fu-").rpartition("-")[0]


async def _in_inbox(bootstrap: str, due: set[str]) -> dict[str, int]:
    """Every due call follow-up became one work item in its owner's inbox (callbacks' queued event)."""
    def matches(record) -> bool:
        return (header(record, "ce_type") == "ic.callback.queued.v1"
                and _followup_of(_data(record).get("callback_id") or "") in due)

    async def read(expect: int, timeout: float) -> list[Any]:
        return await read_topic(bootstrap, "ic.callbacks.v1", matches, expect=expect, timeout=timeout)
    queued = _distinct(await _wait_for(read, len(due), 90), "callback_id")
    per_followup = Counter(_followup_of(callback_id) for callback_id in queued.elements())
    return {"due": len(due), "queued": len(per_followup), "lost": len(due - set(per_followup)),
            "doubled": sum(n - 1 for n in per_followup.values())}


async def count(suite, log: WorkLog) -> dict[str, Any]:
    """Every effect of ``log`` counted from the topics; lost and doubled computed per kind."""
    bootstrap, requests = suite.kafka_bootstrap, set(log.requests)

    def callbacks(ce_type: str, answered: frozenset[str] = frozenset()):
        def matches(record) -> bool:
            data = _data(record)
            return (header(record, "ce_type") == ce_type and record.timestamp >= log.started_ms
                    and (data.get("request_id") in requests or data.get("callback_id") in answered))
        return lambda expect, timeout: read_topic(bootstrap, "ic.callbacks.v1", matches, expect=expect, timeout=timeout)
    queued_records = await _wait_for(callbacks("ic.callback.queued.v1"), len(requests), 180)
    queued = _distinct(queued_records, "request_id")
    mine = {cid for r in queued_records if (cid := _data(r).get("callback_id"))}
    claimed = _distinct(await _wait_for(callbacks("ic.callback.claimed.v1", frozenset(log.claims)), len(log.claims), 60),
                        "callback_id")
    sources = set(log.followups) | set(log.followups_unanswered)

    def followups(ce_type: str, key: str, values: set[str]):
        def matches(record) -> bool:
            data = _data(record)
            value = (data.get("source") or {}).get("id") if key == "source" else data.get(key)
            return header(record, "ce_type") == ce_type and value in values
        return lambda expect, timeout: read_topic(bootstrap, "ic.followups.v1", matches, expect=expect,
                                                  timeout=timeout)
    created_records = await _wait_for(followups("ic.followup.created.v1", "source", sources), len(log.followups), 90)
    created_by_source: dict[str, set[str]] = defaultdict(set)
    for record in created_records:
        created_by_source[_data(record)["source"]["id"]].add(_data(record)["followup_id"])
    created = {fid for ids in created_by_source.values() for fid in ids}
    await asyncio.sleep(max(0.0, (log.last_due - datetime.now(UTC)).total_seconds()))
    due = _distinct(await _wait_for(followups("ic.followup.due.v1", "followup_id", created), len(created), 120),
                    "followup_id")
    return {
        "callback requests": {"published": len(requests), "unacknowledged": log.requests_unacknowledged,
                              "queued": len(queued),
                              "lost": len(requests - set(queued)), "doubled": sum(n - 1 for n in queued.values())},
        "claims": {"answered": sum(log.claims.values()), "unanswered": log.claims_unanswered,
                   "claimed events": sum(claimed.values()), "of these items": len(set(claimed) & mine),
                   "lost": len(set(log.claims) - set(claimed)),
                   "doubled": sum(n - 1 for n in claimed.values()) + sum(n - 1 for n in log.claims.values())},
        "follow-ups created": {"answered": len(log.followups), "unanswered": len(log.followups_unanswered),
                               "created events": len(created),
                               "lost": sum(1 for s, fid in log.followups.items() if fid not in created_by_source[s]),
                               "doubled": sum(len(ids) - 1 for ids in created_by_source.values() if ids)},
        "follow-ups come due": {"created": len(created), "due": len(due), "lost": len(created - set(due)),
                                "doubled": sum(n - 1 for n in due.values())},
        "due calls in the owner's inbox": await _in_inbox(bootstrap, set(due)),
    }
