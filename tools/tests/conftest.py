"""A fake of the five gateways behind ``httpx.MockTransport``: the paths of CONTRACT.md, bearer JWTs
checked with the development secret, answers and RFC 9457 problems shaped like the chassis's."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from icsuite_chassis.settings import DEVELOPMENT_JWT_SECRET

Route = Callable[[httpx.Request, dict[str, Any], re.Match[str]], httpx.Response]
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> httpx.Response:
    body = {"type": f"https://icsuite.dev/problems/{title.lower().replace(' ', '-')}", "title": title,
            "status": status, "detail": detail, **extra}
    return httpx.Response(status, json=body, headers={"content-type": PROBLEM})


class FakeGateways:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.profiles: dict[str, dict[str, Any]] = {"default": {"priority": 1}}
        self.claimed: set[str] = set()
        self.routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("GET", re.compile(r"/v1/accounts/search"), self.search),
            ("GET", re.compile(r"/v1/contacts/(?P<id>[^/]+)/context"), self.context),
            ("GET", re.compile(r"/v1/accounts/(?P<id>[^/]+)/interactions"), self.timeline),
            ("POST", re.compile(r"/v1/callbacks/claim-next"), self.claim_next),
            ("POST", re.compile(r"/v1/callbacks/(?P<id>[^/]+)/complete"), self.complete),
            ("GET", re.compile(r"/v1/alerts"), self.alerts),
            ("GET", re.compile(r"/v1/reason-profiles/(?P<code>[^/]+)"), self.get_profile),
            ("PUT", re.compile(r"/v1/reason-profiles/(?P<code>[^/]+)"), self.put_profile),
        ]

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        _, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            claims = jwt.decode(token, DEVELOPMENT_JWT_SECRET, algorithms=["HS256"])
        except jwt.InvalidTokenError as exc:
            return problem(401, "Unauthorized", f"the token is not valid: {exc}")
        for method, pattern, route in self.routes:
            match = pattern.fullmatch(request.url.path)
            if match and method == request.method:
                return route(request, claims, match)
        return problem(404, "Not found", "Not Found")

    def search(self, request: httpx.Request, claims: dict[str, Any], m: re.Match[str]) -> httpx.Response:
        if request.url.params.get("phone") != "+4930123456":
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        return httpx.Response(200, json={"items": [
            {"account_id": "acc-100001", "name": "Erika Mustermann", "kind": "person", "score": 1.0,
             "matched_by": "phone", "phones": ["+4930123456"]}], "next_cursor": None})

    def context(self, request: httpx.Request, claims: dict[str, Any], m: re.Match[str]) -> httpx.Response:
        if m["id"] != "sim-x-000001":
            return problem(404, "Not found", f"no contact {m['id']}")
        return httpx.Response(200, json={"contact_id": m["id"], "account_id": "acc-100001",
                                         "method": "auto_number", "confirmed": False,
                                         "candidates": [{"account_id": "acc-100001", "score": 1.0}]})

    def timeline(self, request: httpx.Request, claims: dict[str, Any], m: re.Match[str]) -> httpx.Response:
        return httpx.Response(200, json={"items": [
            {"interaction_id": "ix-1", "status": "closed", "channel": "phone", "agent_id": "a-1",
             "outcome": "resolved"}], "next_cursor": "c2"})

    def claim_next(self, request: httpx.Request, claims: dict[str, Any], m: re.Match[str]) -> httpx.Response:
        if "agent" not in claims["roles"]:
            return problem(403, "Forbidden", "this operation needs one of the roles: agent",
                           required_roles=["agent"])
        if "cb-1" in self.claimed:
            return httpx.Response(204)
        self.claimed.add("cb-1")
        return httpx.Response(200, json={"callback_id": "cb-1", "status": "claimed", "agent_id": claims["sub"],
                                         "priority": 8, "reason_code": "outage"})

    def complete(self, request: httpx.Request, claims: dict[str, Any], m: re.Match[str]) -> httpx.Response:
        body = json.loads(request.content)
        if m["id"] != "cb-1":
            return problem(409, "Conflict", f"callback {m['id']} is not in progress", status_now="queued")
        if not body.get("outcome"):
            return problem(422, "Invalid request", "body.outcome: Field required",
                           errors=[{"loc": ["body", "outcome"], "msg": "Field required", "type": "missing"}])
        return httpx.Response(200, json={"callback_id": m["id"], "status": "completed", **body})

    def alerts(self, request: httpx.Request, claims: dict[str, Any], m: re.Match[str]) -> httpx.Response:
        agent = request.url.params.get("agent_id")
        items = [{"alert_id": "al-1", "severity": "warning", "status": "open", "agent_id": "a-1",
                  "message": "Dunning level 2: an overdue bill of 65.50 EUR", "account_id": "acc-100001"}]
        return httpx.Response(200, json={"items": [i for i in items if agent in (None, i["agent_id"])],
                                         "next_cursor": None})

    def get_profile(self, request: httpx.Request, claims: dict[str, Any], m: re.Match[str]) -> httpx.Response:
        if m["code"] in self.profiles:
            return httpx.Response(200, json={"reason_code": m["code"], **self.profiles[m["code"]]})
        return problem(404, "Not found", f"no reason profile {m['code']}")

    def put_profile(self, request: httpx.Request, claims: dict[str, Any], m: re.Match[str]) -> httpx.Response:
        if "admin" not in claims["roles"]:
            return problem(403, "Forbidden", "this operation needs one of the roles: admin")
        self.profiles[m["code"]] = json.loads(request.content)
        return httpx.Response(200, json={"reason_code": m["code"], **self.profiles[m["code"]]})


@pytest.fixture
def gateways() -> FakeGateways:
    return FakeGateways()
