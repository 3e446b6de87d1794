"""The alert stream under several replicas and a slow writer: no alert skipped, each delivered once across
reconnects; Last-Event-ID parsed strictly; the stream ends when the token expires."""

import asyncio
import time
from contextlib import AsyncExitStack
from dataclasses import replace

import pytest
from icsuite_chassis.auth import mint_token
from icsuite_chassis.settings import DEVELOPMENT_JWT_SECRET
from icsuite_chassis.testing import bearer, eventually, running_app, unique

from icsuite_alerts.bootstrap import build_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN = bearer("admin-1", "admin")
ALERTS = 24


async def test_replicas_and_a_slow_insert_skip_no_alert_and_deliver_each_once(alerts, stack) -> None:
    """Three replicas on one database: two share the consumer group, the third has a group of its own and
    so handles every event a second time (as a redelivery after a rebalance would); the stream writes of
    one replica lag 2.5 s, longer than the older design ever waited for a position."""
    agent = unique("a")
    body = {"name": "every contact of the agent", "triggers": ["ic.identity.contact-identified.v1"],
            "condition": f'event.agent_id == "{agent}"', "severity": "info", "message": "seen {event.contact_id}",
            "target": "agent", "dedupe_window_s": 0}
    created = await alerts.client.post("/v1/rules", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    rule_id = created.json()["rule_id"]
    first = alerts.app.state.service.settings
    async with AsyncExitStack() as replicas:
        apps = []
        for prefix in (first.consumer_group_prefix, unique("t") + "."):  # the same group, and a group of its own
            settings = first.model_copy(update={"consumer_group_prefix": prefix})
            if prefix != first.consumer_group_prefix:
                await alerts.start_at_end(settings)
            app = build_app(settings)
            await replicas.enter_async_context(running_app(app))
            apps.append(app)
        slow_writes = 0

        async def slow() -> None:
            nonlocal slow_writes
            slow_writes += 1
            await asyncio.sleep(2.5)

        apps[0].state.service.stream._entries.before_write = slow
        handled = record_handled(apps[1])
        sentinel = alerts.identified(unique("ct"), unique("acc"), agent_id=unique("a"))
        await alerts.publish(sentinel)
        await eventually(lambda: asyncio.sleep(0, sentinel.id in handled), timeout=120)  # caught up
        for app in apps:
            await eventually(lambda app=app: has_rule(app, rule_id))
        events = [alerts.identified(unique("ct"), unique("acc"), agent_id=agent) for _ in range(ALERTS)]
        received: list[dict] = []
        last: int | None = None
        reader_started = time.monotonic()
        for start in range(0, ALERTS, 6):
            await alerts.publish(*events[start:start + 6])
            batch = await alerts.read_stream(agent, last_event_id=last, max_events=5, timeout_s=3)
            received += batch
            last = batch[-1]["id"] if batch else last
        while len(received) < ALERTS and time.monotonic() - reader_started < 60:  # reconnect until all came
            batch = await alerts.read_stream(agent, last_event_id=last, max_events=5, timeout_s=2)
            received += batch
            last = batch[-1]["id"] if batch else last
        assert slow_writes > 0
        await asyncio.sleep(3)  # anything still in flight would show up now
        received += await alerts.read_stream(agent, last_event_id=last, max_events=50, timeout_s=1)

    triggers = [e["alert"]["trigger_event_id"] for e in received]
    assert sorted(triggers) == sorted(e.id for e in events), "each alert exactly once on the stream"
    assert [e["id"] for e in received] == sorted({e["id"] for e in received})  # in order, none twice
    stored = [a async for a in alerts.db.alerts.find({"agent_id": agent})]
    assert len(stored) == ALERTS  # one alert per event although three replicas handled each
    positions = sorted([d["_id"] async for d in alerts.db.alert_stream.find({}, {"_id": 1})])
    assert positions == list(range(positions[0], positions[-1] + 1)), "no free position behind a taken one"
    mine = [d async for d in alerts.db.alert_stream.find({"agent_id": agent})]
    assert sorted(d["alert_id"] for d in mine) == sorted(a["_id"] for a in stored)  # one position per alert


def record_handled(app) -> set[str]:
    """The ids of the events ``app`` handled (its consumer's handlers wrapped)."""
    handled: set[str] = set()
    service = app.state.service

    async def on_events(envelopes) -> None:
        await service.on_events(envelopes)
        handled.update(envelope.id for envelope in envelopes)

    async def on_event(envelope) -> None:
        await on_events([envelope])

    for consumer in app.state.runtime.consumers:
        consumer.spec = replace(consumer.spec, batch_handler=on_events,
                                handlers={t: on_event for t in consumer.spec.handlers})
    return handled


async def has_rule(app, rule_id: str) -> bool:
    await app.state.service.cache.refresh()
    return any(c.rule.rule_id == rule_id for cs in app.state.service.cache.book.by_trigger.values() for c in cs)


@pytest.mark.parametrize("value", ["²", "1" * 5000, "-1", " 12", "12 ", "1e3", "0x10", "9" * 20, "١٢"])
async def test_a_crafted_last_event_id_is_refused_never_a_server_error(alerts, value: str) -> None:
    agent = unique("a")
    headers = {**bearer(agent, "agent"), "Last-Event-ID": value.encode()}  # raw bytes, as a client may send
    response = await alerts.client.get(f"/v1/agents/{agent}/alerts/stream", headers=headers,
                                       params={"max_events": 1, "timeout_s": 0.5})
    assert response.status_code in (400, 422), (value[:20], response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/problem+json")
    query = await alerts.client.get(f"/v1/agents/{agent}/alerts/stream", headers=bearer(agent, "agent"),
                                    params={"last_event_id": value[:64], "max_events": 1, "timeout_s": 0.5})
    assert query.status_code in (400, 422)


async def test_the_largest_position_is_accepted(alerts) -> None:
    agent = unique("a")
    events = await alerts.read_stream(agent, last_event_id=int("9" * 18), max_events=1, timeout_s=0.5)
    assert events == []


async def test_the_stream_ends_when_the_token_expires(alerts) -> None:
    agent = unique("a")
    token = mint_token(DEVELOPMENT_JWT_SECRET, agent, ["agent"], ttl_s=2)

    async def read_until_the_stream_ends() -> str:
        async with alerts.client.stream("GET", f"/v1/agents/{agent}/alerts/stream",
                                        headers={"Authorization": f"Bearer {token}"}) as response:
            assert response.status_code == 200
            return "".join([chunk async for chunk in response.aiter_text()])

    # no timeout_s and no max_events: only the token's expiry can end this stream. The bound is a guard
    # against a hang (a stream that outlives its token never ends), not a speed limit.
    body = await asyncio.wait_for(read_until_the_stream_ends(), timeout=120)
    assert alerts.parse_sse(body) == [] and body.startswith(": stream of alerts")
