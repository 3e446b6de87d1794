"""Premise search, the premise and business agreement pages, and confirming either into the current contact
without an account, against an in-memory stand-in for the gateways."""

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
HTMX = {"HX-Request": "true"}
ADDRESS = {"street": "Hauptstr. 5", "postcode": "10115", "city": "Berlin", "country": "DE"}
AGREEMENT = {"business_agreement_id": "ba-1", "balance": 120.0, "currency": "EUR", "dunning_level": 2,
             "credit_status": "ok", "open_bills": [{"bill_id": "b-1", "amount": 80.0, "due_date": "2026-11-17"}]}
PREMISE = {"premise_id": "pr-1", "address": ADDRESS, "account_ids": ["acc-1"], "business_agreement_ids": ["ba-1"]}
SHARED = {"premise_id": "pr-2", "address": ADDRESS, "account_ids": ["acc-1", "acc-2"], "business_agreement_ids": []}
ACCOUNT = {"account_id": "acc-1", "kind": "person", "name": "Erika Muster", "phones": ["+49301234"], "emails": []}


def _context(body: dict[str, Any]) -> dict[str, Any]:
    return {"contact_id": "c-1", "account_id": body.get("account_id") or "acc-1", "confirmed": True,
            "business_agreement_id": body.get("business_agreement_id"), "premise_id": body.get("premise_id"),
            "candidates": [], "identification": None, "confirmation": None, "history": [], "agent_ids": ["a-1"]}


class Fake:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any, dict[str, str]]] = []
        self.open_contact = True

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.sent.append((request.method, path, body, dict(request.url.params)))
        if path == "/v1/premises/search":
            items = [PREMISE, SHARED] if request.url.params.get("street", "").startswith("Haupt") else []
            return httpx.Response(200, json={"items": items, "next_cursor": "c2" if items else None})
        if path == "/v1/premises/pr-1":
            return httpx.Response(200, json={**PREMISE, "accounts": [ACCOUNT], "business_agreements": [AGREEMENT]})
        if path == "/v1/premises/pr-2":
            return httpx.Response(200, json={**SHARED, "accounts": [ACCOUNT], "business_agreements": []})
        if path == "/v1/business-agreements/ba-1":
            return httpx.Response(200, json={**AGREEMENT, "account_id": "acc-1", "premises": [PREMISE]})
        if path == "/v1/interactions":
            items = [{"interaction_id": "int-1", "contact_id": "c-1", "from_address": "+49301234"}]
            return httpx.Response(200, json={"items": items if self.open_contact else [], "next_cursor": None})
        if path == "/v1/contacts/c-1/context" and request.method == "PUT":
            return self._confirm(body)
        if path == "/v1/contacts/c-9/context":
            return httpx.Response(403, json={"title": "Forbidden", "status": 403,
                                             "detail": "only an agent of contact c-9 or a supervisor may set it"})
        return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": f"{path} does not exist"})

    @staticmethod
    def _confirm(body: dict[str, Any]) -> httpx.Response:
        if body.get("premise_id") == "pr-2" and not body.get("account_id"):
            return httpx.Response(409, json={"title": "Conflict", "status": 409, "candidates": ["acc-1", "acc-2"],
                                             "detail": "premise_id 'pr-2' belongs to 2 accounts, not one"})
        return httpx.Response(200, json=_context(body))


@pytest.fixture
def fake() -> Fake:
    return Fake()


@pytest.fixture
def agent(fake: Fake):
    app = build_app(DesktopSettings(jwt_secret=SECRET))
    app.state.gateways = Gateways(app.state.settings, transport=httpx.MockTransport(fake))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        client.post("/signin", data={"agent_id": "a-1", "role": "agent"})
        yield client


def test_premises_are_found_by_address_and_link_to_their_page(agent: TestClient, fake: Fake) -> None:
    page = agent.get("/premises")
    assert page.status_code == 200 and "Find a premise" in page.text
    assert not [s for s in fake.sent if s[1] == "/v1/premises/search"], "nothing is searched before a criterion"
    r = agent.get("/premises", params={"postcode": " 10115 ", "street": "Hauptstr", "city": ""}, headers=HTMX)
    assert r.status_code == 200 and 'href="/premises/pr-1"' in r.text and 'href="/premises/pr-2"' in r.text
    assert fake.sent[-1][3] == {"postcode": "10115", "street": "Hauptstr", "limit": "20"}
    assert "cursor=c2" in r.text, "the next page is offered"
    r = agent.get("/premises", params={"postcode": "99999", "street": "Nowhere"}, headers=HTMX)
    assert 'data-testid="premises-empty"' in r.text


def test_a_search_without_postcode_is_refused_before_the_gateway(agent: TestClient, fake: Fake) -> None:
    r = agent.get("/premises", params={"street": "Hauptstr"}, headers=HTMX)
    assert r.status_code == 422 and r.headers["HX-Retarget"] == "#problem" and "Postcode needed" in r.text
    assert not [s for s in fake.sent if s[1] == "/v1/premises/search"]


def test_the_premise_page_shows_accounts_agreements_and_offers_the_current_contact(agent: TestClient) -> None:
    r = agent.get("/premises/pr-1")
    assert r.status_code == 200 and "Hauptstr. 5, 10115 Berlin" in r.text
    assert "Erika Muster" in r.text and 'href="/business-agreements/ba-1"' in r.text
    assert 'action="/premises/pr-1/confirm"' in r.text and 'name="contact_id" value="c-1"' in r.text


def test_the_agreement_page_shows_balance_dunning_and_its_premises(agent: TestClient) -> None:
    r = agent.get("/business-agreements/ba-1")
    assert r.status_code == 200 and "120.00 EUR" in r.text and "80.00 due 2026-11-17" in r.text
    assert 'href="/premises/pr-1"' in r.text and 'action="/business-agreements/ba-1/confirm"' in r.text


def test_without_an_open_contact_nothing_is_offered_to_confirm(agent: TestClient, fake: Fake) -> None:
    fake.open_contact = False
    r = agent.get("/premises/pr-1")
    assert r.status_code == 200 and 'data-testid="no-contact"' in r.text and "/confirm" not in r.text


def test_a_premise_is_confirmed_without_an_account(agent: TestClient, fake: Fake) -> None:
    r = agent.post("/premises/pr-1/confirm", data={"contact_id": "c-1"}, headers=HTMX)
    assert r.status_code == 200 and 'data-testid="object-confirmed"' in r.text and "acc-1" in r.text
    assert fake.sent[-1][:3] == ("PUT", "/v1/contacts/c-1/context", {"premise_id": "pr-1"})
    r = agent.post("/business-agreements/ba-1/confirm", data={"contact_id": "c-1"}, headers=HTMX)
    assert r.status_code == 200 and fake.sent[-1][2] == {"business_agreement_id": "ba-1"}


def test_a_premise_of_several_accounts_offers_the_candidates(agent: TestClient, fake: Fake) -> None:
    r = agent.post("/premises/pr-2/confirm", data={"contact_id": "c-1"}, headers=HTMX)
    assert r.status_code == 409 and "belongs to 2 accounts" in r.text
    assert "Confirm with account acc-1" in r.text and "Confirm with account acc-2" in r.text
    r = agent.post("/premises/pr-2/confirm", data={"contact_id": "c-1", "account_id": "acc-2"}, headers=HTMX)
    assert r.status_code == 200 and fake.sent[-1][2] == {"premise_id": "pr-2", "account_id": "acc-2"}
    page = agent.post("/premises/pr-2/confirm", data={"contact_id": "c-1"})
    assert page.status_code == 409 and "<h1>Premise" in page.text and "Confirm with account acc-2" in page.text


def test_refusals_are_shown_with_title_and_detail(agent: TestClient) -> None:
    r = agent.post("/premises/pr-1/confirm", data={"contact_id": "c-9"}, headers=HTMX)
    assert r.status_code == 403 and r.headers["HX-Retarget"] == "#problem"
    assert "Forbidden" in r.text and "only an agent of contact c-9" in r.text
    r = agent.get("/premises/pr-404")
    assert r.status_code == 404 and "/v1/premises/pr-404 does not exist" in r.text
    r = agent.post("/premises/pr-1/confirm", data={}, headers=HTMX)
    assert r.status_code == 422 and "contact_id" in r.text


def test_signed_out_visitors_are_sent_to_sign_in(fake: Fake) -> None:
    app = build_app(DesktopSettings(jwt_secret=SECRET))
    app.state.gateways = Gateways(app.state.settings, transport=httpx.MockTransport(fake))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        for path in ("/premises", "/premises/pr-1", "/business-agreements/ba-1"):
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/signin"
        r = client.post("/premises/pr-1/confirm", data={"contact_id": "c-1"}, follow_redirects=False)
        assert r.status_code == 303
    assert not fake.sent
