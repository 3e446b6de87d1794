"""The customer-data page (erasure requests) against an in-memory stand-in for the identity gateway."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from icsuite_desktop.bootstrap import build_app
from icsuite_desktop.gateways import Gateways
from icsuite_desktop.settings import DesktopSettings

pytestmark = pytest.mark.unit
SECRET = "unit-secret-" + "x" * 32
SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")


def _erasure(confirmed: int) -> dict[str, Any]:
    services = {name: ({"status": "erased", "erased": {"accounts": 1}, "erased_at": "2026-12-07T06:40:00Z"}
                       if i < confirmed else {"status": "pending", "erased": {}, "erased_at": None})
                for i, name in enumerate(SERVICES)}
    return {"erasure_id": "er-1", "account_id": "acc-1", "requested_by": "x-1",
            "requested_at": "2026-12-07T06:39:00Z", "status": "completed" if confirmed == 5 else "open",
            "completed_at": "2026-12-07T06:40:00Z" if confirmed == 5 else None, "services": services}


class FakeIdentity:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.confirmed = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.method, request.url.path, body))
        if request.url.path == "/v1/privacy/erasures" and body["account_id"] == "missing":
            return httpx.Response(404, json={"title": "Not found", "status": 404,
                                             "detail": "account missing does not exist"})
        if request.url.path == "/v1/privacy/erasures":
            return httpx.Response(202, json=_erasure(self.confirmed))
        if request.url.path == "/v1/privacy/erasures/er-1":
            return httpx.Response(200, json=_erasure(self.confirmed))
        return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": request.url.path})


@pytest.fixture
def fake() -> FakeIdentity:
    return FakeIdentity()


def _client(fake: FakeIdentity, role: str) -> TestClient:
    app = build_app(DesktopSettings(jwt_secret=SECRET))
    app.state.gateways = Gateways(app.state.settings, transport=httpx.MockTransport(fake))
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    client.post("/signin", data={"agent_id": "x-1", "role": role})
    return client


def test_a_requested_erasure_shows_each_service_and_refreshes_while_open(fake) -> None:
    with _client(fake, "admin") as client:
        r = client.post("/admin/customer-data/erasures", data={"account_id": " acc-1 "},
                        headers={"HX-Request": "true"})
        assert r.status_code == 200 and fake.sent[-1] == ("POST", "/v1/privacy/erasures", {"account_id": "acc-1"})
        assert 'data-status="open"' in r.text and 'hx-trigger="every 1s"' in r.text
        assert r.text.count('data-status="pending"') == 5
        fake.confirmed = 5
        r = client.get("/admin/customer-data/erasures/er-1", headers={"HX-Request": "true"})
    assert 'data-status="completed"' in r.text and "hx-trigger" not in r.text
    assert r.text.count('data-status="erased"') == 5 and "accounts: 1" in r.text


def test_without_htmx_the_request_leads_to_the_erasure_page(fake) -> None:
    with _client(fake, "admin") as client:
        r = client.post("/admin/customer-data/erasures", data={"account_id": "acc-1"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/admin/customer-data/erasures/er-1"
        page = client.get("/admin/customer-data/erasures/er-1")
    assert page.status_code == 200 and "<h1>Customer data</h1>" in page.text and 'data-erasure-id="er-1"' in page.text


def test_a_refusal_is_shown_as_its_title_and_detail(fake) -> None:
    with _client(fake, "admin") as client:
        r = client.post("/admin/customer-data/erasures", data={"account_id": "missing"},
                        headers={"HX-Request": "true"})
    assert r.status_code == 404 and r.headers["HX-Retarget"] == "#problem"
    assert "Not found" in r.text and "account missing does not exist" in r.text


def test_agents_and_supervisors_are_refused_the_page(fake) -> None:
    for role in ("agent", "supervisor"):
        with _client(fake, role) as client:
            for path in ("/admin/customer-data", "/admin/customer-data/erasures/er-1"):
                r = client.get(path)
                assert r.status_code == 403 and "Forbidden" in r.text
                assert 'href="/admin/customer-data"' not in r.text, "the nav does not offer the page"
            r = client.post("/admin/customer-data/erasures", data={"account_id": "acc-1"})
            assert r.status_code == 403
    assert not [s for s in fake.sent if "privacy" in s[1]], "nothing reaches the erasure routes"
