"""Every endpoint but the probes refuses a missing or bad token (401); roles are enforced (403)."""

import re
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from icsuite_chassis.auth import mint_token

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
SERVICES = ["identity", "interactions", "callbacks", "followups", "alerts"]
OPEN_PATHS = {"/healthz", "/readyz", "/metrics", "/asyncapi.json", "/openapi.json", "/docs", "/redoc",
              "/docs/oauth2-redirect"}


def _operations(suite, service: str) -> list[tuple[str, str]]:
    spec = httpx.get(suite.url(service, "/openapi.json"), timeout=10).json()
    ops = []
    for path, methods in spec["paths"].items():
        if path in OPEN_PATHS:
            continue
        concrete = re.sub(r"\{[^}]+\}", "x-1", path)
        ops.extend((method.upper(), concrete) for method in methods if method in {"get", "post", "put", "patch", "delete"})
    return ops


def _bad_tokens(secret: str) -> dict[str, str]:
    now = time.time()
    return {
        "missing": "",
        "expired": mint_token(secret, "a-1", ["admin"], ttl_s=1, now=now - 3600),
        "unsigned": jwt.encode({"sub": "a-1", "roles": ["admin"], "exp": now + 600}, None, algorithm="none"),
        "other key": mint_token("another-key-that-is-long-enough-123456", "a-1", ["admin"]),
        "other algorithm": jwt.encode({"sub": "a-1", "roles": ["admin"], "exp": now + 600},
                                      rsa.generate_private_key(public_exponent=65537, key_size=2048),
                                      algorithm="RS256"),
    }


@pytest.mark.parametrize("service", SERVICES)
def test_every_endpoint_refuses_missing_and_bad_tokens(suite, service: str) -> None:
    operations = _operations(suite, service)
    assert operations, f"{service} documents no endpoints"
    failures = []
    with httpx.Client(timeout=10) as client:
        for kind, token in _bad_tokens(suite.jwt_secret).items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            for method, path in operations:
                r = client.request(method, suite.url(service, path), headers=headers, json={})
                if r.status_code != 401 or r.headers.get("content-type") != "application/problem+json":
                    failures.append(f"{kind}: {method} {path} -> {r.status_code}")
    assert not failures, "\n".join(failures)
    print(f"\n{service}: {len(operations)} operations x {len(_bad_tokens(suite.jwt_secret))} bad tokens refused")


def _as(suite, role: str, sub: str = "a-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(suite.jwt_secret, sub, [role])}"}


RULE = {"name": "x", "triggers": ["ic.contact.started.v1"], "condition": "true", "severity": "info",
        "message": "m", "target": "agent", "dedupe_window_s": 60, "enabled": True}


@pytest.mark.parametrize(("role", "service", "method", "path", "body"), [
    ("agent", "alerts", "POST", "/v1/rules", RULE),
    ("agent", "alerts", "PUT", "/v1/rules/r-1", RULE),
    ("agent", "alerts", "DELETE", "/v1/rules/r-1", None),
    ("agent", "followups", "PUT", "/v1/config/followup-types", {}),
    ("agent", "followups", "PUT", "/v1/config/copy-rules", {}),
    ("agent", "callbacks", "PUT", "/v1/reason-profiles/billing", {}),
    ("channel", "identity", "GET", "/v1/accounts/search?phone=%2B4930123456", None),
    ("channel", "identity", "GET", "/v1/accounts/acc-1", None),
    ("channel", "identity", "POST", "/v1/accounts", {"kind": "person", "name": "X", "contact_id": "ct-1"}),
    ("channel", "identity", "GET", "/v1/premises/search?postcode=10115", None),
    ("channel", "identity", "GET", "/v1/premises/pr-1", None),
    ("channel", "identity", "GET", "/v1/business-agreements/ba-1", None),
    ("channel", "identity", "PUT", "/v1/contacts/ct-1/context", {"premise_id": "pr-1"}),
    ("channel", "interactions", "GET", "/v1/accounts/acc-1/interactions", None),
    ("channel", "alerts", "GET", "/v1/alerts", None),
    *[(role, service, "GET", path, None) for role in ("agent", "channel") for service, path in [
        ("callbacks", "/v1/reports/callbacks"), ("callbacks", "/v1/reports/callbacks/due"),
        ("callbacks", "/v1/reports/open-work"), ("interactions", "/v1/reports/interactions/today"),
        ("interactions", "/v1/reports/open-work"), ("followups", "/v1/reports/open-work")]],
])
def test_wrong_role_answers_403(suite, role, service, method, path, body) -> None:
    r = httpx.request(method, suite.url(service, path), headers=_as(suite, role), json=body, timeout=10)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("service", "path"), [
    ("callbacks", "/v1/reports/callbacks"), ("callbacks", "/v1/reports/callbacks/due?within_minutes=0"),
    ("callbacks", "/v1/reports/open-work"), ("interactions", "/v1/reports/interactions/today?time_zone=UTC"),
    ("interactions", "/v1/reports/open-work"), ("followups", "/v1/reports/open-work"),
])
@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_the_supervisor_reports_answer_supervisors_and_administrators(suite, role, service, path) -> None:
    r = httpx.get(suite.url(service, path), headers=_as(suite, role, sub="sup-1"), timeout=10)
    assert r.status_code == 200, r.text
