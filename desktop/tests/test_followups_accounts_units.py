"""A follow-up's page (change, notes history), account creation with the duplicate warning and the copy rules
page, against an in-memory stand-in for the gateways."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from icsuite_desktop.bootstrap import build_app
from icsuite_desktop.gateways import Gateways
from icsuite_desktop.routes_accounts import account_body
from icsuite_desktop.routes_customizing import copy_rules_from_form
from icsuite_desktop.settings import DesktopSettings

pytestmark = pytest.mark.unit
SECRET = "unit-secret-" + "x" * 32
FOLLOWUP = {"followup_id": "fu-1", "source": {"type": "interaction", "id": "int-1"}, "display_area": "linked_objects",
            "type": "phone_call", "channel": "phone", "status": "open", "priority": 3, "account_id": "acc-1",
            "owner_id": "a-1", "due_at": "2026-12-20T09:30:00Z", "created_by": "a-1",
            "created_at": "2026-12-07T10:00:00Z", "copied_fields": [],
            "notes": [{"note_id": "n-1", "type": "note", "language": "de", "text": "Kunde zahlt ab Januar",
                       "author": "a-1", "created_at": "2026-12-07T10:00:00Z"}]}
COPY = {"source_types": {"interaction": {"fields": ["account_id"], "note_types": ["note"]}}, "version": 2,
        "updated_at": "2026-12-01T00:00:00Z", "updated_by": "seed"}


class Fake:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.followups_down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path, method = request.url.path, request.method
        self.sent.append((method, path, body))
        if path == "/v1/followups/fu-1" and method == "PATCH":
            if body.get("status") == "completed" and FOLLOWUP["owner_id"] != "a-1":
                return httpx.Response(403, json={"title": "Forbidden", "status": 403, "detail": "not the owner"})
            return httpx.Response(200, json={**FOLLOWUP, **body})
        if path == "/v1/followups/fu-1":
            return httpx.Response(200, json=FOLLOWUP)
        if path == "/v1/followups/fu-1/notes":
            return httpx.Response(201, json={**body, "note_id": "n-2", "author": "a-1"})
        if path == "/v1/accounts/acc-1":
            return httpx.Response(200, json={"account_id": "acc-1", "name": "Erika Muster", "kind": "person",
                                             "phones": [], "emails": [], "addresses": [], "business_agreements": [],
                                             "premises": []})
        if path == "/v1/accounts/acc-1/followups":
            if self.followups_down:
                return httpx.Response(503, json={"title": "Service unavailable", "status": 503, "detail": "db"})
            return httpx.Response(200, json={"items": [FOLLOWUP], "next_cursor": None})
        if path == "/v1/accounts" and not body.get("allow_duplicate"):
            return httpx.Response(409, json={"title": "Conflict", "status": 409, "duplicates": ["acc-7"],
                                             "detail": "an account with this name and address exists"})
        if path == "/v1/accounts":
            return httpx.Response(201, json={"account_id": "acc-new", "name": body["name"]})
        if path == "/v1/config/copy-rules" and method == "PUT":
            return httpx.Response(200, json={**COPY, **body, "version": 3})
        if path == "/v1/config/copy-rules":
            return httpx.Response(200, json=COPY)
        return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": path})


@pytest.fixture
def fake() -> Fake:
    return Fake()


def _client(fake: Fake, role: str):
    app = build_app(DesktopSettings(jwt_secret=SECRET))
    app.state.gateways = Gateways(app.state.settings, transport=httpx.MockTransport(fake))
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    client.post("/signin", data={"agent_id": "a-1", "role": role})
    return client


def test_a_follow_up_shows_its_notes_history_and_is_changed(fake: Fake) -> None:
    with _client(fake, "agent") as client:
        page = client.get("/followups/fu-1").text
        assert "Kunde zahlt ab Januar" in page and "Notes history" in page and 'value="2026-12-20T09:30"' in page
        r = client.post("/followups/fu-1", headers={"HX-Request": "true"},
                        data={"status": "in_process", "priority": "5", "due_at": "", "reason_code": "billing"})
        assert r.status_code == 200 and "Follow-up saved." in r.text
        patch = fake.sent[-2][2]
        assert patch["status"] == "in_process" and patch["priority"] == 5 and patch["due_at"] is None
        assert "owner_id" not in patch, "an empty owner field leaves the owner alone"
        assert client.post("/followups/fu-1", data={"status": "gone", "priority": "1"}).status_code == 422
        r = client.post("/followups/fu-1/notes", headers={"HX-Request": "true"},
                        data={"type": "report", "language": "de", "text": "Rückruf vereinbart"})
        assert r.status_code == 200 and ("POST", "/v1/followups/fu-1/notes",
                                         {"type": "report", "language": "de", "text": "Rückruf vereinbart"}) in fake.sent


def test_a_likely_duplicate_is_shown_and_can_be_created_anyway(fake: Fake) -> None:
    form = {"kind": "person", "name": "Erika Muster", "phone": "+4930123", "street": "Hauptstr. 1",
            "postcode": "10115", "city": "Berlin", "country": "de", "contact_id": "ct-1"}
    with _client(fake, "agent") as client:
        r = client.post("/accounts", data=form, headers={"HX-Request": "true"})
        assert r.status_code == 409 and 'data-testid="duplicate-warning"' in r.text and "acc-7" in r.text
        assert "Create anyway" in r.text and 'name="allow_duplicate"' in r.text
        r = client.post("/accounts", data={**form, "allow_duplicate": "yes"}, headers={"HX-Request": "true"})
        assert r.status_code == 200 and "acc-new" in r.text and "confirmed for contact" in r.text
    sent = fake.sent[-1][2]
    assert sent["allow_duplicate"] is True and sent["contact_id"] == "ct-1"
    assert sent["address"]["country"] == "DE" and sent["phones"] == ["+4930123"]


def test_account_body_leaves_out_what_was_not_given() -> None:
    body = account_body({"kind": "organisation", "name": " ACME ", "phone": "", "email": ""})
    assert body == {"kind": "organisation", "name": "ACME", "phones": [], "emails": []}


def test_copy_rules_are_read_and_saved_by_an_administrator_only(fake: Fake) -> None:
    with _client(fake, "agent") as client:
        assert client.get("/admin/copy-rules").status_code == 403
    with _client(fake, "admin") as client:
        page = client.get("/admin/copy-rules").text
        assert 'id="copy-interaction-account_id" checked' in page and 'value="note"' in page
        r = client.post("/admin/copy-rules", data={"version": "2", "fields:complaint": ["premise_id", "bogus"],
                                                   "notes:complaint": "note, report"})
        assert r.status_code == 200 and "Saved as version 3." in r.text
    sent = fake.sent[-1][2]
    assert sent["version"] == 2 and sent["source_types"]["complaint"] == {"fields": ["premise_id"],
                                                                         "note_types": ["note", "report"]}
    assert sent["source_types"]["interaction"] == {"fields": [], "note_types": []}


def test_copy_rules_from_form_keeps_only_known_fields() -> None:
    rules = copy_rules_from_form({"fields:case": ["reason_code", "x"], "notes:case": [" , internal,"]})
    assert rules["case"] == {"fields": ["reason_code"], "note_types": ["internal"]}


def test_the_account_summary_lists_its_planned_follow_ups_and_survives_without_them(fake: Fake) -> None:
    with _client(fake, "agent") as client:
        page = client.get("/fragments/accounts/acc-1", headers={"HX-Request": "true"}).text
        assert "Erika Muster" in page and 'href="/followups/fu-1"' in page
        assert ("GET", "/v1/accounts/acc-1/followups", None) in fake.sent
        fake.followups_down = True
        page = client.get("/fragments/accounts/acc-1", headers={"HX-Request": "true"}).text
        assert "Erika Muster" in page and "Service unavailable" in page
