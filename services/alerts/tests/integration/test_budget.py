"""Bad input on the real stack: an exponential rule is refused with a clear 422 and nothing is stored; a rule
over its evaluation budget at run time is a visible rule error while the consumer goes on; a deep backtest
answers a bounded result (or a 422) and stores nothing."""

import asyncio
from datetime import timedelta

import pytest
from icsuite_chassis.testing import bearer, eventually, unique

ADMIN = bearer("admin-1", "admin")
SUPERVISOR = bearer("sup-1", "supervisor")
pytestmark = [pytest.mark.integration]
TRIGGER = "ic.identity.contact-identified.v1"
EXPONENTIAL = '["a"]' + ".map(x, x + x)" * 40 + '[0] != ""'  # 2^40 characters: 1 TiB, were it run
AT_THE_LIMIT = '["' + "y" * 500 + '"]' + ".map(x, x + x)" * 10 + "[0].size() > 0"  # compiles, then over budget


def rule(name: str, condition: str) -> dict:
    return {"name": name, "triggers": [TRIGGER], "condition": condition, "severity": "info",
            "message": "m {event.contact_id}", "target": "agent", "dedupe_window_s": 0}


async def rule_names(alerts) -> set[str]:
    response = await alerts.client.get("/v1/rules", params={"limit": 200}, headers=ADMIN)
    return {r["name"] for r in response.json()["items"]}


async def test_an_exponential_rule_is_refused_with_422_and_nothing_is_stored(alerts) -> None:
    name = unique("exponential")
    revision = await alerts.db.meta.find_one({"_id": "rules_revision"})
    response = await alerts.client.post("/v1/rules", json=rule(name, EXPONENTIAL), headers=ADMIN)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (problem["field"], problem["kind"]) == ("condition", "too_costly")
    assert "times the size of its input" in problem["error"] and problem["position"]["column"] > 1
    assert name not in await rule_names(alerts)
    assert await alerts.db.meta.find_one({"_id": "rules_revision"}) == revision
    window = {"from": (alerts.now() - timedelta(hours=1)).isoformat(), "to": alerts.now().isoformat()}
    backtest = await alerts.client.post("/v1/rules/backtest", json={"rule": rule(name, EXPONENTIAL), **window},
                                        headers=SUPERVISOR)
    assert backtest.status_code == 422 and backtest.json()["kind"] == "too_costly"


async def test_a_rule_over_its_budget_is_a_visible_rule_error_and_the_consumer_goes_on(alerts) -> None:
    greedy = await alerts.client.post("/v1/rules", json=rule(unique("greedy"), AT_THE_LIMIT), headers=ADMIN)
    assert greedy.status_code == 201, greedy.text
    greedy_id = greedy.json()["rule_id"]
    contact = unique("ct")
    witness = await alerts.client.post("/v1/rules", json=rule(unique("witness"), f'event.contact_id == "{contact}"'),
                                       headers=ADMIN)
    await asyncio.sleep(1.5)  # every replica's rules are reloaded within rules_refresh_interval_s
    event = alerts.identified(contact, unique("acc"))
    await alerts.publish(event)
    raised = await alerts.alerts_for(contact, expect=1)
    assert [a["rule_id"] for a in raised] == [witness.json()["rule_id"]]

    async def reported() -> dict | None:
        body = (await alerts.client.get(f"/v1/rules/{greedy_id}", headers=ADMIN)).json()
        return body["last_error"]

    error = await eventually(reported)
    assert (error["kind"], error["event_id"], error["rule_version"]) == ("budget", event.id, 1)
    assert "in one evaluation" in error["message"]
    later = alerts.identified(unique("ct"), unique("acc"))  # the consumer is still there
    await alerts.publish(later)
    await alerts.processed(later)
    await alerts.client.delete(f"/v1/rules/{greedy_id}", headers=ADMIN)
    await alerts.client.delete(f"/v1/rules/{witness.json()['rule_id']}", headers=ADMIN)


async def test_a_deep_backtest_is_bounded_and_stores_nothing(alerts) -> None:
    events = [alerts.identified(unique("ct"), unique("acc")) for _ in range(300)]
    await alerts.publish(*events)
    await alerts.processed(*events)
    service = alerts.app.state.service
    draft = rule(unique("deep"), 'event.contact_id.startsWith("ct")')
    far = {"from": (alerts.now() - timedelta(days=400)).isoformat(), "to": alerts.now().isoformat()}
    too_long = await alerts.client.post("/v1/rules/backtest", json={"rule": draft, **far}, headers=SUPERVISOR)
    assert too_long.status_code == 422, too_long.text
    window = {"from": (alerts.now() - timedelta(days=1)).isoformat(), "to": alerts.now().isoformat()}
    limit = service.settings.backtest_time_limit_s
    service.settings.backtest_time_limit_s = 1e-6  # deeper than the time allowed: what was found so far
    try:
        response = await alerts.client.post("/v1/rules/backtest", json={"rule": draft, **window}, headers=SUPERVISOR)
    finally:
        service.settings.backtest_time_limit_s = limit
    assert response.status_code == 200, response.text
    bounded = response.json()
    assert (bounded["truncated"], bounded["truncated_by"]) == (True, "time_limit")
    assert bounded["events_replayed"] < 300 and bounded["count"] == len(bounded["alerts"])
    greedy = await alerts.client.post("/v1/rules/backtest", json={"rule": rule("greedy", AT_THE_LIMIT), **window},
                                      headers=SUPERVISOR)
    result = greedy.json()
    assert greedy.status_code == 200 and result["count"] == 0 and result["rule_errors"] == result["triggers_evaluated"] > 0
    assert "in one evaluation" in result["rule_error"]
    assert await alerts.db.alerts.count_documents({"rule_id": "draft"}) == 0
    assert draft["name"] not in await rule_names(alerts)
