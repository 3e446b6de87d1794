"""Reason profiles and permitted follow-up types pages against an in-memory stand-in for the gateways."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from icsuite_desktop.bootstrap import build_app
from icsuite_desktop.gateways import Gateways
from icsuite_desktop.routes_customizing import types_from_form
from icsuite_desktop.settings import DesktopSettings

pytestmark = pytest.mark.unit
SECRET = "unit-secret-" + "x" * 32
PROFILE = {"reason_code": "billing", "task_type": "callback", "priority": 5, "sla_minutes": 60, "queue": "billing",
           "skill": None, "max_attempts": 3, "retry_delay_seconds": 900.0, "description": None, "is_default": False}
TYPES = {"channels": {"phone": ["phone_call"], "email": ["email"]}, "source_types": {"interaction": ["phone_call"]},
         "version": 4, "updated_at": "2026-12-01T00:00:00Z", "updated_by": "seed"}


class Fake:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.profiles: list[dict[str, Any]] = [PROFILE]
        self.refuse: dict[str, Any] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))
        if request.url.path == "/v1/reason-profiles":
            return httpx.Response(200, json=self.profiles)
        if request.url.path.startswith("/v1/reason-profiles/") and self.refuse:
            return httpx.Response(self.refuse["status"], json=self.refuse)
        if request.url.path.startswith("/v1/reason-profiles/"):
            return httpx.Response(200, json={**PROFILE, **body, "reason_code": request.url.path.rsplit("/", 1)[1]})
        if request.url.path == "/v1/config/followup-types" and request.method == "PUT":
            return httpx.Response(200, json={**TYPES, **body, "version": 5})
        if request.url.path == "/v1/config/followup-types":
            return httpx.Response(200, json=TYPES)
        return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": request.url.path})


@pytest.fixture
def fake() -> Fake:
    return Fake()


@pytest.fixture
def admin(fake: Fake):
    app = build_app(DesktopSettings(jwt_secret=SECRET))
    app.state.gateways = Gateways(app.state.settings, transport=httpx.MockTransport(fake))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        client.post("/signin", data={"agent_id": "ad-1", "role": "admin"})
        yield client


def test_a_reason_profile_is_saved_with_the_typed_values(admin: TestClient, fake: Fake) -> None:
    r = admin.post("/admin/reason-profiles", data={"reason_code": "moving", "task_type": "callback", "queue": "moves",
                                                   "priority": "7", "sla_minutes": "90", "max_attempts": "2",
                                                   "retry_delay_seconds": "600", "skill": "moving"})
    assert r.status_code == 200 and "Reason profile moving saved." in r.text
    (put,) = [s for s in fake.sent if s[0] == "PUT"]
    assert put[1] == "/v1/reason-profiles/moving"
    assert put[2] == {"task_type": "callback", "priority": 7, "sla_minutes": 90, "queue": "moves", "skill": "moving",
                      "language": None, "max_attempts": 2, "retry_delay_seconds": 600.0, "description": None,
                      "business_hours": None}


def test_language_and_business_hours_are_saved_and_shown_back(admin: TestClient, fake: Fake) -> None:
    r = admin.post("/admin/reason-profiles", data={
        "reason_code": "moving", "task_type": "callback", "queue": "moves", "priority": "7", "sla_minutes": "90",
        "max_attempts": "2", "retry_delay_seconds": "600", "language": "de", "time_zone": "Europe/Berlin",
        "mon": "08:00-12:00, 13:00-18:00", "sat": " 09:00 - 13:00 ", "sun": ""})
    assert r.status_code == 200 and "Reason profile moving saved." in r.text
    (put,) = [s for s in fake.sent if s[0] == "PUT"]
    assert put[2]["language"] == "de"
    assert put[2]["business_hours"] == {"time_zone": "Europe/Berlin",
                                        "days": {"mon": [["08:00", "12:00"], ["13:00", "18:00"]],
                                                 "sat": [["09:00", "13:00"]]}}


def test_stored_business_hours_fill_the_form_and_the_table(admin: TestClient, fake: Fake) -> None:
    with_hours = {**PROFILE, "language": "fr", "business_hours": {
        "time_zone": "Europe/Paris", "days": {"tue": [["08:00", "12:00"], ["14:00", "17:00"]]}}}
    fake.profiles = [with_hours]
    page = admin.get("/admin/reason-profiles?edit=billing").text
    assert 'name="language" value="fr"' in page and 'name="time_zone" value="Europe/Paris"' in page
    assert 'name="tue" value="08:00-12:00, 14:00-17:00"' in page and 'name="mon" value=""' in page
    assert "Europe/Paris: tue 08:00-12:00, 14:00-17:00" in page


def test_malformed_hours_are_refused_with_the_typed_form_kept(admin: TestClient, fake: Fake) -> None:
    base = {"reason_code": "moving", "task_type": "callback", "queue": "moves", "priority": "7", "sla_minutes": "90",
            "max_attempts": "2", "retry_delay_seconds": "600"}
    r = admin.post("/admin/reason-profiles", data={**base, "time_zone": "Europe/Berlin", "wed": "8 to 12"})
    assert r.status_code == 422 and "Invalid business hours" in r.text and "wed" in r.text
    assert 'name="wed" value="8 to 12"' in r.text and 'name="reason_code" value="moving"' in r.text
    r = admin.post("/admin/reason-profiles", data={**base, "fri": "08:00-12:00"})
    assert r.status_code == 422 and "time zone" in r.text
    r = admin.post("/admin/reason-profiles", data={**base, "language": "not a language"})
    assert r.status_code == 422 and "language" in r.text
    assert not [s for s in fake.sent if s[0] == "PUT"]


def test_the_callbacks_services_refusal_of_hours_is_shown(admin: TestClient, fake: Fake) -> None:
    fake.refuse = {"title": "Invalid business hours", "status": 422, "detail": "unknown time zone 'Mars/Olympus'"}
    r = admin.post("/admin/reason-profiles", data={
        "reason_code": "moving", "task_type": "callback", "queue": "moves", "priority": "7", "sla_minutes": "90",
        "max_attempts": "2", "retry_delay_seconds": "600", "time_zone": "Mars/Olympus", "mon": "08:00-18:00"})
    assert r.status_code == 422 and "unknown time zone &#39;Mars/Olympus&#39;" in r.text
    assert 'name="time_zone" value="Mars/Olympus"' in r.text and 'name="mon" value="08:00-18:00"' in r.text


def test_an_out_of_range_profile_is_refused_before_the_gateway(admin: TestClient, fake: Fake) -> None:
    r = admin.post("/admin/reason-profiles", data={"reason_code": "x", "task_type": "callback", "queue": "q",
                                                   "priority": "5000", "sla_minutes": "90", "max_attempts": "2",
                                                   "retry_delay_seconds": "600"})
    assert r.status_code == 422 and "priority" in r.text
    assert not [s for s in fake.sent if s[0] == "PUT"]


def test_permitted_types_are_saved_from_the_checkboxes_with_the_version(admin: TestClient, fake: Fake) -> None:
    page = admin.get("/admin/followup-types").text
    assert 'name="channel:phone" value="phone_call"' in page and 'value="4"' in page
    r = admin.post("/admin/followup-types", data={"version": "4", "channel:phone": ["phone_call", "visit"],
                                                  "channel:email": ["email", "bogus"], "source:interaction": ["task"]})
    assert r.status_code == 200 and "Saved as version 5." in r.text
    (put,) = [s for s in fake.sent if s[0] == "PUT"]
    assert put[2] == {"channels": {"phone": ["phone_call", "visit"], "email": ["email"]},
                      "source_types": {"interaction": ["task"]}, "version": 4}


def test_types_from_form_keeps_only_known_types_in_catalogue_order() -> None:
    form = {"channel:phone": ["task", "phone_call", "nonsense"], "channel:fax": []}
    assert types_from_form(form, "channel", ["phone", "fax", "sms"]) == {"phone": ["phone_call", "task"],
                                                                        "fax": [], "sms": []}


def test_the_new_profile_form_starts_with_valid_defaults(admin: TestClient) -> None:
    page = admin.get("/admin/reason-profiles").text
    assert 'name="priority" type="number" min="0" max="1000" value="1"' in page, "a blank required field blocks saving"
    assert 'name="retry_delay_seconds" type="number" min="0" max="604800" step="any" value="900"' in page
