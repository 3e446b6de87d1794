"""The SSE stream (replay after Last-Event-ID, none twice, live over a real socket), acknowledgement, backtest."""

import asyncio
import json
import socket
from datetime import timedelta

import httpx
import pytest
import uvicorn
from icsuite_chassis.testing import bearer, eventually, header, read_topic, unique

pytestmark = [pytest.mark.integration]

ADMIN = bearer("admin-1", "admin")
SUPERVISOR = bearer("sup-1", "supervisor")


async def account_rule(alerts, account_prefix: str, **overrides) -> str:
    body = {"name": "test rule", "triggers": ["ic.identity.contact-identified.v1"],
            "condition": f'event.account_id.startsWith("{account_prefix}") && facts.balance > 100.0',
            "severity": "warning", "message": "Balance {facts.balance} on {event.account_id}", "target": "agent",
            "dedupe_window_s": 600, "enabled": True, **overrides}
    response = await alerts.client.post("/v1/rules", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()["rule_id"]


async def test_a_reconnecting_client_receives_what_it_missed_and_nothing_twice(alerts) -> None:
    prefix = unique("accs")
    await account_rule(alerts, prefix)
    account, agent = f"{prefix}-1", unique("a")
    await alerts.publish(alerts.agreement(account, balance="200"))
    await alerts.facts(account, balance=200.0)

    listening = asyncio.create_task(alerts.read_stream(agent))
    await asyncio.sleep(0.3)
    first = alerts.identified(unique("ct"), account, agent_id=agent)
    await alerts.publish(first)
    [seen] = await listening
    assert seen["alert"]["contact_id"] == first.data.contact_id and seen["alert"]["position"] == seen["id"]

    missed = alerts.identified(unique("ct"), account, agent_id=agent)  # raised while nobody listens
    await alerts.publish(missed)
    await alerts.alerts_for(missed.data.contact_id, expect=1)
    resumed = await alerts.read_stream(agent, last_event_id=seen["id"], max_events=5, timeout_s=1.5)
    assert [e["alert"]["contact_id"] for e in resumed] == [missed.data.contact_id]
    assert resumed[0]["id"] > seen["id"]
    assert await alerts.read_stream(agent, last_event_id=resumed[0]["id"], max_events=5, timeout_s=1) == []
    assert await alerts.read_stream(unique("a"), last_event_id=0, max_events=50, timeout_s=0.5) == []
    other = await alerts.client.get(f"/v1/agents/{agent}/alerts/stream", headers=bearer("a-other", "agent"))
    assert other.status_code == 403
    bad = await alerts.client.get(f"/v1/agents/{agent}/alerts/stream?last_event_id=x", headers=bearer(agent, "agent"))
    assert bad.status_code == 422


async def test_the_stream_pushes_live_over_a_real_connection(alerts) -> None:
    prefix = unique("accs")
    await account_rule(alerts, prefix)
    account, agent = f"{prefix}-1", unique("a")
    await alerts.publish(alerts.agreement(account, balance="300"))
    await alerts.facts(account, balance=300.0)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(alerts.app, lifespan="off", log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/agents/{agent}/alerts/stream"
    try:
        await eventually(lambda: asyncio.sleep(0, server.started))
        async with httpx.AsyncClient(timeout=20) as client:
            async with client.stream("GET", url, headers=bearer(agent, "agent")) as response:
                lines = response.aiter_lines()
                assert (await anext(lines)).startswith(": stream of alerts")
                contact = unique("ct")
                await alerts.publish(alerts.identified(contact, account, agent_id=agent))
                received = []
                while not any(line.startswith("data: ") for line in received):
                    received.append(await asyncio.wait_for(anext(lines), 15))
        assert json.loads(received[-1][6:])["contact_id"] == contact
    finally:
        server.should_exit = True
        await serving


async def test_acknowledging_an_alert_emits_the_event_once(alerts) -> None:
    prefix = unique("accs")
    await account_rule(alerts, prefix)
    account, agent, contact = f"{prefix}-1", unique("a"), unique("ct")
    await alerts.publish(alerts.agreement(account, balance="150"))
    await alerts.facts(account, balance=150.0)
    await alerts.publish(alerts.identified(contact, account, agent_id=agent))
    [alert] = await alerts.alerts_for(contact, expect=1)
    url = f"/v1/alerts/{alert['alert_id']}/ack"
    assert (await alerts.client.post(url, headers=bearer("someone-else", "agent"))).status_code == 403
    acked = await alerts.client.post(url, headers=bearer(agent, "agent"))
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert (await alerts.client.post(url, headers=bearer(agent, "agent"))).status_code == 409
    listed = await alerts.client.get("/v1/alerts", params={"status": "acknowledged"}, headers=bearer(agent, "agent"))
    assert [a["alert_id"] for a in listed.json()["items"]] == [alert["alert_id"]]

    def about_alert(record) -> bool:
        return json.loads(record.value).get("alert_id") == alert["alert_id"]

    records = await read_topic(alerts.bootstrap, "ic.alerts.v1", about_alert, expect=2)
    assert sorted(header(r, "ce_type") for r in records) == ["ic.alert.acknowledged.v1", "ic.alert.raised.v1"]
    assert all(r.key == account.encode() for r in records)


async def test_backtest_matches_what_live_evaluation_raised(alerts) -> None:
    prefix = unique("accs")
    spec = {"name": "backtested", "triggers": ["ic.identity.contact-identified.v1"],
            "condition": f'event.account_id.startsWith("{prefix}") && facts.balance > 100.0',
            "severity": "warning", "message": "Balance {facts.balance} on {event.account_id}", "target": "agent",
            "dedupe_window_s": 600, "enabled": True}
    rule_id = (await alerts.client.post("/v1/rules", json=spec, headers=ADMIN)).json()["rule_id"]
    rich, poor = f"{prefix}-rich", f"{prefix}-poor"
    t0 = alerts.now()
    await alerts.publish(alerts.agreement(rich, balance="300", time=t0 - timedelta(minutes=3)),
                         alerts.agreement(poor, balance="50", time=t0 - timedelta(minutes=3)))
    await alerts.facts(rich, balance=300.0)
    await alerts.facts(poor, balance=50.0)
    c1, c2, c3 = unique("ct"), unique("ct"), unique("ct")
    contacts = [alerts.identified(c1, rich, time=t0), alerts.identified(c1, rich, confirmed=True, time=t0 + timedelta(seconds=1)),
                alerts.identified(c2, rich, time=t0 + timedelta(seconds=2)), alerts.identified(c3, poor, time=t0 + timedelta(seconds=3))]
    await alerts.publish(*contacts)
    await alerts.processed(*contacts)
    await asyncio.sleep(0.3)
    live = [a for c in (c1, c2, c3) for a in await alerts.alerts_for(c) if a["rule_id"] == rule_id]
    assert len(live) == 2

    body = {"rule": spec, "from": (t0 - timedelta(minutes=10)).isoformat(), "to": (t0 + timedelta(minutes=10)).isoformat()}
    response = await alerts.client.post("/v1/rules/backtest", json=body, headers=SUPERVISOR)
    assert response.status_code == 200, response.text
    result = response.json()
    would = [a for a in result["alerts"] if a["account_id"] in (rich, poor)]

    def key(a: dict) -> tuple:
        return (a["account_id"], a["contact_id"], a["trigger_event_id"], a["message"], a["agent_id"])

    assert sorted(map(key, would)) == sorted(map(key, live))
    assert [a for c in (c1, c2, c3) for a in await alerts.alerts_for(c) if a["rule_id"] == rule_id] == live
    body["to"] = (t0 - timedelta(minutes=9)).isoformat()
    quiet = (await alerts.client.post("/v1/rules/backtest", json=body, headers=SUPERVISOR)).json()
    assert [a for a in quiet["alerts"] if a["account_id"] in (rich, poor)] == []
    bad = await alerts.client.post("/v1/rules/backtest", headers=SUPERVISOR,
                                   json={**body, "rule": {**spec, "condition": "facts.nope"}})
    assert bad.status_code == 422 and bad.json()["field"] == "condition"
    assert (await alerts.client.post("/v1/rules/backtest", json=body, headers=bearer("a-1", "agent"))).status_code == 403


async def test_an_alert_raised_before_the_agent_is_known_reaches_the_agent_once_it_is(alerts) -> None:
    from icsuite_contracts.cloudevents import new_envelope
    from icsuite_contracts.contacts_v1 import ContactSegmentRecorded

    prefix = unique("accs")
    await account_rule(alerts, prefix)
    account, agent, contact = f"{prefix}-1", unique("a"), unique("ct")
    await alerts.publish(alerts.agreement(account, balance="250"))
    await alerts.facts(account, balance=250.0)
    listening = asyncio.create_task(alerts.read_stream(agent, last_event_id=None, max_events=1))
    await asyncio.sleep(0.3)
    identified = alerts.identified(contact, account, agent_id=None)  # identified automatically, no agent yet
    await alerts.publish(identified)
    [waiting] = await alerts.alerts_for(contact, expect=1)
    assert waiting["agent_id"] is None and waiting["target"] == "agent"
    assert not listening.done()

    segment = new_envelope(ContactSegmentRecorded(contact_id=contact, segment_id="seg-2", kind="agent", agent_id=agent,
                                                  started_at=alerts.now()), source="/test", correlation_id=contact)
    await alerts.publish(segment, segment)  # redelivered: still assigned once
    [seen] = await asyncio.wait_for(listening, 20)
    assert seen["alert"]["alert_id"] == waiting["alert_id"] and seen["alert"]["agent_id"] == agent
    assert seen["id"] > waiting["position"]
    await alerts.processed(segment)
    # none twice, none missed: a replay from before shows it once; after its new position, nothing
    replay = await alerts.read_stream(agent, last_event_id=waiting["position"] - 1, max_events=5,
                               timeout_s=1)
    assert [e["alert"]["alert_id"] for e in replay] == [waiting["alert_id"]]
    assert await alerts.read_stream(agent, last_event_id=seen["id"], max_events=5, timeout_s=0.5) == []
    [stored] = await alerts.alerts_for(contact, expect=1)
    assert stored["agent_id"] == agent and stored["position"] == seen["id"]


async def test_a_first_connection_gets_the_open_alerts_raised_just_before_it(alerts) -> None:
    prefix = unique("accs")
    await account_rule(alerts, prefix)
    account, agent = f"{prefix}-1", unique("a")
    await alerts.publish(alerts.agreement(account, balance="300"))
    await alerts.facts(account, balance=300.0)
    earlier = alerts.identified(unique("ct"), account, agent_id=agent)  # raised before the desktop connects
    await alerts.publish(earlier)
    [stored] = await alerts.alerts_for(earlier.data.contact_id, expect=1)
    first = await alerts.read_stream(agent, max_events=5, timeout_s=1.5)
    assert [e["alert"]["contact_id"] for e in first] == [earlier.data.contact_id]
    # once acknowledged it is no longer replayed to a new connection; a resumed one gets nothing twice
    ack = await alerts.client.post(f"/v1/alerts/{stored['alert_id']}/ack", headers=bearer(agent, "agent"))
    assert ack.status_code == 200, ack.text
    assert await alerts.read_stream(agent, max_events=5, timeout_s=1) == []
    assert await alerts.read_stream(agent, last_event_id=first[0]["id"], max_events=5, timeout_s=1) == []
