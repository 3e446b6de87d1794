"""Absence rules on the real stack: an unclaimed callback alerts the supervisors once on their stream;
a callback claimed in time raises nothing."""

import asyncio
from datetime import datetime, timedelta

import pytest
from icsuite_chassis.testing import bearer, eventually, unique
from icsuite_contracts.callbacks_v1 import CallbackClaimed, CallbackQueued
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.testing import sample_event

pytestmark = [pytest.mark.integration]

ADMIN = bearer("admin-1", "admin")
SUPERVISOR = bearer("sup-1", "supervisor")


def callback(model, callback_id: str, time: datetime | None = None, event_id: str | None = None):
    data = sample_event(model).model_copy(update={"callback_id": callback_id, "account_id": None})
    return new_envelope(data, source="/test", correlation_id=f"req-{callback_id}", time=time, id=event_id)


async def test_an_unclaimed_callback_alerts_the_supervisors_once_and_a_claimed_one_not(alerts) -> None:
    marker = unique("sla")
    body = {"name": f"unclaimed {marker}", "triggers": ["ic.callback.queued.v1"],
            "condition": f'event.callback_id.startsWith("{marker}")',  # other sessions queue callbacks too
            "severity": "warning", "message": f"{marker} {{event.callback_id}} unclaimed", "target": "supervisors",
            "dedupe_window_s": 0, "after": {"within_s": 3, "unless": ["ic.callback.claimed.v1"]}}
    created = await alerts.client.post("/v1/rules", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["after"] == {"within_s": 3, "unless": ["ic.callback.claimed.v1"]}
    rule_id = created.json()["rule_id"]
    supervisor = unique("sup")
    try:
        await asyncio.sleep(0.5)  # the rules revision reaches the consumer
        waiting, claimed = unique(marker), unique(marker)
        await alerts.publish(callback(CallbackQueued, waiting), callback(CallbackQueued, claimed))
        await alerts.publish(callback(CallbackClaimed, claimed))

        async def both_settled() -> bool:
            docs = [d async for d in alerts.db.alert_absences.find({"rule_id": rule_id})]
            return sorted(d["status"] for d in docs) == ["cancelled", "raised"]

        await eventually(both_settled, timeout=60)
        await asyncio.sleep(2)  # a second raise, if there were one, would show now
        streamed = await alerts.read_stream(supervisor, roles=("supervisor",), last_event_id=0, max_events=500,
                                            timeout_s=2)
        seen = [e["alert"] for e in streamed if e["alert"]["rule_id"] == rule_id]
        assert [a["message"] for a in seen] == [f"{marker} {waiting} unclaimed"]  # once, and not the claimed one
        assert seen[0]["target"] == "supervisors"
        agent_stream = await alerts.read_stream(unique("a"), last_event_id=0, max_events=500, timeout_s=1)
        assert not [e for e in agent_stream if e["alert"]["rule_id"] == rule_id]  # not on an agent's stream
        listed = await alerts.client.get("/v1/alerts", params={"limit": 100}, headers=SUPERVISOR)
        assert len([a for a in listed.json()["items"] if a["rule_id"] == rule_id]) == 1
    finally:
        await alerts.client.delete(f"/v1/rules/{rule_id}", headers=ADMIN)


async def test_an_absence_rule_with_an_unknown_unless_type_is_refused(alerts) -> None:
    body = {"name": "bad", "triggers": ["ic.callback.queued.v1"], "condition": "true", "severity": "info",
            "message": "m", "target": "supervisors", "dedupe_window_s": 0,
            "after": {"within_s": 60, "unless": ["ic.nothing.v1"]}}
    response = await alerts.client.post("/v1/rules", json=body, headers=ADMIN)
    assert response.status_code == 422 and response.json()["field"] == "after.unless"
    body["after"] = {"within_s": 0, "unless": ["ic.callback.claimed.v1"]}
    assert (await alerts.client.post("/v1/rules", json=body, headers=ADMIN)).status_code == 422


async def test_a_backtest_evaluates_an_absence_rule_with_its_deadline(alerts) -> None:
    """Issue 17: the backtest replays the kept events with the absence rule's deadlines, as the live path
    runs them: the unclaimed callback would have alerted at its due time, the one claimed in time not."""
    marker = unique("bt")
    waiting, claimed = unique(marker), unique(marker)
    started = alerts.now()
    queued = [callback(CallbackQueued, waiting), callback(CallbackQueued, claimed, event_id=f"{marker}-2-queued")]
    # the claim arrives after its queued event, stamped in the same millisecond with an id that sorts before
    # it: the replay goes by arrival, as the live path does, so the claim still cancels the absence
    events = [*queued, callback(CallbackClaimed, claimed, time=queued[1].time, event_id=f"{marker}-1-claimed")]
    await alerts.publish(*events[:2])
    await alerts.publish(events[2])
    await alerts.processed(*events)  # all three kept for backtests
    draft = {"name": f"draft {marker}", "triggers": ["ic.callback.queued.v1"],
             "condition": f'event.callback_id.startsWith("{marker}")', "severity": "warning",
             "message": "{event.callback_id} unclaimed", "target": "supervisors", "dedupe_window_s": 0,
             "after": {"within_s": 1, "unless": ["ic.callback.claimed.v1"]}}

    async def decided() -> dict | None:
        window = {"from": (started - timedelta(minutes=5)).isoformat(), "to": alerts.now().isoformat()}
        response = await alerts.client.post("/v1/rules/backtest", json={"rule": draft, **window}, headers=SUPERVISOR)
        assert response.status_code == 200, response.text
        body = response.json()
        return body if body["absences_undecided"] == 0 else None  # both due times passed (1 s)

    result = await eventually(decided, timeout=60)
    assert [a["message"] for a in result["alerts"]] == [f"{waiting} unclaimed"]
    [alert] = result["alerts"]
    assert alert["target"] == "supervisors" and alert["trigger_type"] == "ic.callback.queued.v1"
    assert await alerts.db.alert_absences.count_documents({"message": {"$regex": marker}}) == 0  # raised nothing
