"""Alert-rule administration and the supervisor's view against an in-memory stand-in for the gateways."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from icsuite_desktop.bootstrap import build_app
from icsuite_desktop.gateways import GatewayProblem, Gateways
from icsuite_desktop.routes_admin import field_errors
from icsuite_desktop.routes_supervisor import merge_open_work
from icsuite_desktop.settings import DesktopSettings

pytestmark = pytest.mark.unit
SECRET = "unit-secret-" + "x" * 32
RULE = {"rule_id": "r-1", "version": 1, "name": "Dunning 3", "triggers": ["ic.identity.contact-identified.v1"],
        "condition": "facts.dunning_level >= 3", "severity": "warning", "message": "m", "target": "agent",
        "dedupe_window_s": 3600, "enabled": False, "standard": False}
INVALID = {"type": "x", "title": "Invalid rule", "status": 422, "detail": "condition: undeclared reference",
           "field": "condition", "error": "undeclared reference to 'fact'", "kind": "check",
           "position": {"line": 1, "column": 1}, "errors": [{"field": "condition",
                                                             "error": "undeclared reference to 'fact'",
                                                             "position": {"line": 1, "column": 1}}]}


class FakeAlertsAndCallbacks:
    def __init__(self) -> None:
        self.rule = dict(RULE)
        self.sent: list[tuple[str, str, Any]] = []
        now = datetime.now(UTC)
        self.inbox = [{"callback_id": "cb-1", "callback_number": "+4930111", "queue": "billing", "profile": "p",
                       "reason_code": "late", "due_at": (now - timedelta(minutes=5)).isoformat(),
                       "created_at": (now - timedelta(hours=2)).isoformat()},
                      {"callback_id": "cb-2", "callback_number": "+4930222", "queue": "moving", "profile": "p",
                       "reason_code": None, "due_at": (now + timedelta(hours=5)).isoformat(),
                       "created_at": (now - timedelta(minutes=1)).isoformat()}]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))
        path, method = request.url.path, request.method
        if method in ("POST", "PUT") and path.startswith("/v1/rules") and "fact." in json.dumps(body):
            return httpx.Response(422, json=INVALID)
        if path == "/v1/rules/r-1" and method == "PUT":
            self.rule = {**self.rule, **body, "version": self.rule["version"] + 1}
            return httpx.Response(200, json=self.rule)
        if path == "/v1/rules/r-1":
            return httpx.Response(200, json=self.rule)
        if path == "/v1/rules/r-1/versions":
            return httpx.Response(200, json={"items": [{**RULE, "saved_at": "2026-12-07T01:00:00", "saved_by": "x"}]})
        if path == "/v1/rules/backtest":
            return httpx.Response(200, json={"from": body["from"], "to": body["to"], "count": 2, "alerts": [],
                                             "events_replayed": 40, "triggers_evaluated": 7, "truncated": True,
                                             "truncated_by": "time_limit", "rule_errors": 1,
                                             "rule_error": "the condition took too many steps"})
        if path == "/v1/reports/callbacks":
            return httpx.Response(200, json={
                "as_of": datetime.now(UTC).isoformat(), "breached": 1, "due_soon": 0, "due_soon_minutes": 30,
                "counts": [{"status": "queued", "queue": "billing", "count": 1},
                           {"status": "claimed", "queue": "moving", "count": 4}],
                "oldest_waiting": self.inbox[0]})
        if path == "/v1/reports/callbacks/due":
            return httpx.Response(200, json={"items": self.inbox[:1], "next_cursor": "next-page"})
        if path == "/v1/reports/interactions/today":
            return httpx.Response(200, json={
                "day": "2026-12-07", "time_zone": request.url.params["time_zone"], "opened": 9, "closed": 3,
                "open_now": 6, "by_outcome": [{"code": "resolved", "count": 3}],
                "by_reason": [{"code": None, "count": 3}], "groups_left_off": 0,
                "start": "2026-12-07T00:00:00Z", "end": "2026-12-08T00:00:00Z"})
        if path == "/v1/reports/open-work":
            item = {8002: {"agent_id": "anna", "open_interactions": 2},
                    8003: {"agent_id": "bea", "claimed": 1, "in_progress": 1},
                    8004: {"agent_id": "anna", "open_followups": 5, "overdue": 2}}[request.url.port]
            return httpx.Response(200, json={"items": [item], "next_cursor": None})
        if path == "/v1/alerts":
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": path})


@pytest.fixture
def fake() -> FakeAlertsAndCallbacks:
    return FakeAlertsAndCallbacks()


def _client(fake: FakeAlertsAndCallbacks, role: str) -> TestClient:
    app = build_app(DesktopSettings(jwt_secret=SECRET))
    app.state.gateways = Gateways(app.state.settings, transport=httpx.MockTransport(fake))
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    client.post("/signin", data={"agent_id": "x-1", "role": role})
    return client


RULE_FORM = {"name": "Dunning 3", "triggers": "ic.identity.contact-identified.v1\n", "severity": "warning",
             "message": "m", "target": "agent", "dedupe_window_s": "600"}


def test_a_rule_that_does_not_compile_shows_the_error_at_its_field(fake) -> None:
    with _client(fake, "admin") as client:
        r = client.post("/admin/rules", data={**RULE_FORM, "condition": "fact.dunning_level > 1"},
                        headers={"HX-Request": "true"})
    assert r.status_code == 422
    assert 'data-testid="error-condition"' in r.text and "undeclared reference" in r.text and "line 1" in r.text
    assert 'aria-invalid="true" aria-describedby="err-condition"' in r.text
    assert "fact.dunning_level &gt; 1" in r.text, "what the administrator typed stays in the form"


def test_enabling_saves_a_new_version_with_the_same_rule(fake) -> None:
    with _client(fake, "admin") as client:
        r = client.post("/admin/rules/r-1/enabled", data={"enabled": "true"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "enabled (version 2)" in r.text
    (method, path, body) = [s for s in fake.sent if s[0] == "PUT"][0]
    assert body == {k: v for k, v in RULE.items() if k not in ("rule_id", "version", "standard")} | {"enabled": True}


def test_a_backtest_sends_the_draft_and_the_period(fake) -> None:
    with _client(fake, "admin") as client:
        r = client.post("/admin/rules-backtest", headers={"HX-Request": "true"},
                        data={**RULE_FORM, "condition": "facts.balance > 100.0", "start": "2026-12-01T00:00",
                              "end": "2026-12-07T00:00"})
    assert r.status_code == 200 and "<strong>2</strong> alert(s)" in r.text
    assert "reached its time limit" in r.text and "failed on 1 event(s): the condition took too many steps" in r.text
    body = [s for s in fake.sent if s[1] == "/v1/rules/backtest"][0][2]
    assert body["from"] == "2026-12-01T00:00:00+00:00" and body["rule"]["condition"] == "facts.balance > 100.0"
    assert body["rule"]["dedupe_window_s"] == 600 and body["rule"]["enabled"] is False


def test_agents_are_refused_the_admin_and_supervisor_pages(fake) -> None:
    with _client(fake, "agent") as client:
        for path in ("/admin/rules", "/admin/rules/r-1", "/supervisor"):
            r = client.get(path)
            assert r.status_code == 403 and "Forbidden" in r.text
    assert fake.sent == [], "nothing reaches a gateway"


def test_the_supervisor_sees_the_reports_breached_callbacks_today_and_each_agents_open_work(fake) -> None:
    with _client(fake, "supervisor") as client:
        r = client.get("/supervisor?time_zone=Europe/Berlin")
        more = client.get("/fragments/supervisor/due?cursor=next-page", headers={"HX-Request": "true"})
    assert r.status_code == 200, r.text
    assert 'data-callback-id="cb-1" data-sla="breached"' in r.text and "1 breached" in r.text
    assert "Oldest waiting: <a href=\"/callbacks/cb-1\">+4930111</a>" in r.text
    assert '<tr data-queue="moving"><th scope="row">moving</th><td data-status="scheduled">0</td>' in r.text
    assert "on 2026-12-07 (Europe/Berlin)" in r.text and "(none)" in r.text
    assert 'hx-get="/fragments/supervisor/due?cursor=next-page"' in r.text
    assert more.status_code == 200 and 'data-callback-id="cb-1"' in more.text


def test_open_work_merges_every_services_counts_by_agent() -> None:
    merged = merge_open_work({"interactions": [{"agent_id": "bea", "open_interactions": 2}],
                              "callbacks": [{"agent_id": "anna", "claimed": 1, "in_progress": 0}],
                              "followups": [{"agent_id": "bea", "open_followups": 3, "overdue": 1}]})
    assert merged == [{"agent_id": "anna", "open_interactions": 0, "claimed": 1, "in_progress": 0,
                       "open_followups": 0, "overdue": 0},
                      {"agent_id": "bea", "open_interactions": 2, "claimed": 0, "in_progress": 0,
                       "open_followups": 3, "overdue": 1}]


def test_field_errors_fall_back_to_the_detail() -> None:
    assert field_errors(GatewayProblem(422, "Invalid", "name: too long", "alerts", {})) == {"rule": "name: too long"}
