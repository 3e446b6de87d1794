"""The desktop's sign-in, session cookie and error pages with the gateways replaced by an in-memory one."""

from __future__ import annotations

import json

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from icsuite_desktop.bootstrap import build_app
from icsuite_desktop.routes_stream import parse_sse, sse_event
from icsuite_desktop.settings import DesktopSettings

pytestmark = pytest.mark.unit
SECRET = "unit-secret-" + "x" * 32


def _gateway(request: httpx.Request) -> httpx.Response:
    """A stand-in for the gateways: an empty open-interactions list, and 403 for starting a callback."""
    if request.url.path == "/v1/interactions":
        return httpx.Response(200, json={"items": [], "next_cursor": None})
    if request.url.path.endswith("/start"):
        return httpx.Response(403, json={"type": "x", "title": "Forbidden", "status": 403,
                                         "detail": "callback cb-1 belongs to agent a-9"},
                              headers={"content-type": "application/problem+json"})
    return httpx.Response(404, json={"title": "Not found", "status": 404, "detail": "nothing here"})


def _client(**settings: object) -> TestClient:
    app = build_app(DesktopSettings(jwt_secret=SECRET, **settings))
    from icsuite_desktop.gateways import Gateways
    app.state.gateways = Gateways(app.state.settings, transport=httpx.MockTransport(_gateway))
    return TestClient(app, base_url="http://127.0.0.1:8000")


def _sign_in(client: TestClient, **form: str) -> httpx.Response:
    data = {"agent_id": "a-1", "role": "agent", "skills": "billing, moving", "languages": "de"} | form
    return client.post("/signin", data=data, follow_redirects=False)


def test_pages_need_a_session() -> None:
    with _client() as client:
        r = client.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin"
        r = client.get("/fragments/current-contact", headers={"HX-Request": "true"})
        assert r.status_code == 401 and r.headers["HX-Redirect"] == "/signin"


def test_development_sign_in_sets_a_strict_http_only_cookie_with_the_claims() -> None:
    with _client() as client:
        r = _sign_in(client)
        assert r.status_code == 303
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Secure" not in cookie  # plain http://127.0.0.1 in development
        claims = jwt.decode(client.cookies["icsuite_session"], SECRET, algorithms=["HS256"])
        assert claims["sub"] == "a-1" and claims["roles"] == ["agent"]
        assert claims["skills"] == ["billing", "moving"] and claims["languages"] == ["de"]
        assert client.get("/").status_code == 200


def test_the_cookie_is_secure_off_the_loopback() -> None:
    app = build_app(DesktopSettings(jwt_secret=SECRET))
    with TestClient(app, base_url="http://desk.example.org") as client:
        assert "Secure" in _sign_in(client).headers["set-cookie"]


@pytest.mark.parametrize("form", [{"agent_id": "a 1"}, {"role": "channel"}, {"skills": "x" * 40},
                                  {"agent_id": ""}])
def test_bad_sign_in_input_is_refused_with_a_message(form: dict[str, str]) -> None:
    with _client() as client:
        r = _sign_in(client, **form)
        assert r.status_code == 422 and "icsuite_session" not in r.headers.get("set-cookie", "")


def test_a_forged_cookie_is_a_signed_out_user() -> None:
    with _client() as client:
        forged = jwt.encode({"sub": "a-1", "roles": ["admin"], "exp": 4102444800}, "other-" + "y" * 40,
                            algorithm="HS256")
        client.cookies.set("icsuite_session", forged)
        assert client.get("/", follow_redirects=False).status_code == 303


def test_a_gateway_refusal_shows_its_title_and_detail() -> None:
    with _client() as client:
        _sign_in(client)
        r = client.post("/callbacks/cb-1/start", data={"dial": "requested"}, headers={"HX-Request": "true"})
        assert r.status_code == 403 and r.headers["HX-Retarget"] == "#problem"
        assert "Forbidden" in r.text and "belongs to agent a-9" in r.text
        r = client.post("/callbacks/cb-1/start", data={"dial": "requested"})
        assert r.status_code == 403 and "<h1>Forbidden</h1>" in r.text


def test_a_cross_origin_write_is_refused() -> None:
    with _client() as client:
        _sign_in(client)
        r = client.post("/callbacks/claim-next", headers={"Origin": "http://evil.example.org"})
        assert r.status_code == 403


def test_no_open_contact_is_shown_then_answered_204_while_unchanged() -> None:
    with _client() as client:
        _sign_in(client)
        r = client.get("/fragments/current-contact", headers={"HX-Request": "true"})
        assert r.status_code == 200 and 'data-testid="no-contact"' in r.text
        assert client.get("/fragments/current-contact?seen=none").status_code == 204


def test_development_sign_in_is_refused_in_production() -> None:
    with pytest.raises(ValueError, match="OIDC"):
        DesktopSettings(jwt_secret=SECRET, environment="production", jwt_issuer="https://id.example.org",
                        jwt_audience="icsuite")
    with pytest.raises(ValueError, match="development sign-in"):
        DesktopSettings(jwt_secret=SECRET, environment="production", jwt_issuer="https://id.example.org",
                        jwt_audience="icsuite", sign_in="development")


def test_development_tokens_carry_issuer_and_audience_when_the_suite_requires_them() -> None:
    app = build_app(DesktopSettings(jwt_secret=SECRET, jwt_issuer="https://id.example.org", jwt_audience="icsuite"))
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        _sign_in(client)
        claims = jwt.decode(client.cookies["icsuite_session"], SECRET, algorithms=["HS256"], audience="icsuite",
                            issuer="https://id.example.org")
        assert claims["sub"] == "a-1"
        assert client.get("/", follow_redirects=False).status_code == 200


def test_a_session_longer_than_the_token_lifetime_is_refused() -> None:
    with pytest.raises(ValueError, match="SESSION_TTL_S"):
        DesktopSettings(jwt_secret=SECRET, session_ttl_s=13 * 3600)


async def _lines(*lines: str):
    for line in lines:
        yield line


async def test_sse_parsing_and_relayed_events() -> None:
    events = [e async for e in parse_sse(_lines(": comment", "retry: 2000", "", "id: 7", "event: alert",
                                                "data: {\"a\":", "data: 1}", "", "id: 8"))]
    assert events[0] == {"retry": "2000"}
    assert events[1]["id"] == "7" and json.loads(events[1]["data"]) == {"a": 1}
    assert len(events) == 2  # an event without its closing blank line is not complete
    assert sse_event("alert", "<li>\n x</li>", "9") == "id: 9\nevent: alert\ndata: <li>\ndata:  x</li>\n\n"
