"""The icsuite CLI against a fake of the gateways (httpx MockTransport): tables, JSON, problems."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pytest
from icsuite_chassis.settings import DEVELOPMENT_JWT_SECRET
from icsuite_tools.cli import main
from icsuite_tools.seeding import REASON_PROFILES, seed_reason_profiles

pytestmark = pytest.mark.unit


def run(capsys: pytest.CaptureFixture[str], gateways: Any, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), transport=gateways.transport)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_search_prints_a_table_of_candidates(capsys: pytest.CaptureFixture[str], gateways: Any) -> None:
    code, out, _ = run(capsys, gateways, "accounts", "search", "--phone", "+4930123456")
    assert code == 0
    header, _, row = out.splitlines()[:3]
    assert header.split()[:3] == ["account_id", "name", "kind"]
    assert "acc-100001" in row and "Erika Mustermann" in row
    request = gateways.requests[0]
    assert request.url.host == "127.0.0.1" and request.url.port == 8001
    assert request.url.path == "/v1/accounts/search" and request.url.params["phone"] == "+4930123456"


def test_json_output_is_the_gateways_answer(capsys: pytest.CaptureFixture[str], gateways: Any) -> None:
    code, out, _ = run(capsys, gateways, "contacts", "context", "sim-x-000001", "--json")
    assert code == 0 and json.loads(out)["account_id"] == "acc-100001"
    assert gateways.requests[0].url.port == 8001


def test_timeline_goes_to_interactions_and_shows_the_next_cursor(
        capsys: pytest.CaptureFixture[str], gateways: Any) -> None:
    code, out, _ = run(capsys, gateways, "accounts", "timeline", "acc-100001", "--channel", "phone")
    assert code == 0 and "ix-1" in out and out.rstrip().endswith("(more: --cursor c2)")
    request = gateways.requests[0]
    assert request.url.port == 8002 and request.url.path == "/v1/accounts/acc-100001/interactions"
    assert dict(request.url.params) == {"channel": "phone"}


def test_a_problem_is_printed_readably_with_a_non_zero_exit(
        capsys: pytest.CaptureFixture[str], gateways: Any) -> None:
    code, out, err = run(capsys, gateways, "callbacks", "complete", "cb-9", "--outcome", "reached")
    assert code == 1 and out == ""
    assert err.splitlines()[:3] == ["error: 409 Conflict", "  callback cb-9 is not in progress",
                                    "  status_now: queued"]
    code, _, err = run(capsys, gateways, "contacts", "context", "nope", "--json")
    assert code == 1 and json.loads(err)["status"] == 404 and json.loads(err)["detail"] == "no contact nope"


def test_claim_next_uses_the_agent_of_the_token_then_finds_nothing(
        capsys: pytest.CaptureFixture[str], gateways: Any) -> None:
    code, out, _ = run(capsys, gateways, "callbacks", "claim-next", "--sub", "a-7")
    assert code == 0 and "cb-1" in out and "a-7" in out
    claims = jwt.decode(gateways.requests[0].headers["authorization"].split()[1], DEVELOPMENT_JWT_SECRET,
                        algorithms=["HS256"])
    assert claims["sub"] == "a-7" and claims["roles"] == ["agent"]
    code, out, _ = run(capsys, gateways, "callbacks", "claim-next")
    assert code == 0 and "Nothing to claim" in out
    code, _, err = run(capsys, gateways, "callbacks", "claim-next", "--role", "supervisor")
    assert code == 1 and "403 Forbidden" in err and "required_roles" in err


def test_a_minted_token_carries_the_agents_skills(capsys: pytest.CaptureFixture[str], gateways: Any) -> None:
    run(capsys, gateways, "callbacks", "claim-next", "--sub", "a-7", "--token-skill", "billing",
        "--token-language", "de")
    claims = jwt.decode(gateways.requests[0].headers["authorization"].split()[1], DEVELOPMENT_JWT_SECRET,
                        algorithms=["HS256"])
    assert claims["skills"] == ["billing"] and claims["languages"] == ["de"]


def test_complete_sends_the_outcome(capsys: pytest.CaptureFixture[str], gateways: Any) -> None:
    code, out, _ = run(capsys, gateways, "callbacks", "complete", "cb-1", "--outcome", "reached", "--json")
    assert code == 0 and json.loads(out)["status"] == "completed"
    assert json.loads(gateways.requests[0].content) == {"outcome": "reached"}
    assert gateways.requests[0].url.port == 8003


def test_alerts_for_an_agent(capsys: pytest.CaptureFixture[str], gateways: Any) -> None:
    code, out, _ = run(capsys, gateways, "alerts", "list", "--agent", "a-1")
    assert code == 0 and "al-1" in out and "Dunning level 2" in out
    assert gateways.requests[0].url.port == 8005 and gateways.requests[0].url.params["agent_id"] == "a-1"


def test_base_url_and_token_options(capsys: pytest.CaptureFixture[str], gateways: Any,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, gateways, "alerts", "list", "--token", "not-a-jwt")
    assert code == 1 and "401 Unauthorized" in err
    monkeypatch.setenv("IC_ALERTS_URL", "http://alerts.test:9999")
    run(capsys, gateways, "alerts", "list")
    run(capsys, gateways, "alerts", "list", "--base-url", "http://other.test:1234/")
    assert [str(r.url) for r in gateways.requests[1:]] == ["http://alerts.test:9999/v1/alerts",
                                                          "http://other.test:1234/v1/alerts"]


def test_an_unreachable_gateway_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    code = main(["accounts", "show", "acc-1"], transport=httpx.MockTransport(refuse))
    err = capsys.readouterr().err
    assert code == 3 and "cannot reach identity at http://127.0.0.1:8001" in err and "make up" in err


def test_token_command_mints_what_the_services_verify(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["token", "--role", "agent", "--role", "supervisor", "--sub", "a-1"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), DEVELOPMENT_JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "a-1" and claims["roles"] == ["agent", "supervisor"]
    monkeypatch.setenv("IC_JWT_SECRET", "another-secret-of-at-least-32-characters!")
    assert main(["token", "--json"]) == 0
    token = json.loads(capsys.readouterr().out)["token"]
    assert jwt.decode(token, "another-secret-of-at-least-32-characters!", algorithms=["HS256"])["roles"] == ["agent"]


def test_token_command_carries_skills_and_languages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--sub", "a-7", "--skill", "billing", "--skill", "moves", "--language", "de"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), DEVELOPMENT_JWT_SECRET, algorithms=["HS256"])
    assert claims["skills"] == ["billing", "moves"] and claims["languages"] == ["de"]
    assert main(["token", "--sub", "a-8"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), DEVELOPMENT_JWT_SECRET, algorithms=["HS256"])
    assert "skills" not in claims and "languages" not in claims  # no claim: the agent has none


@pytest.mark.parametrize("argv", [[], ["accounts"], ["callbacks", "claim-next"], ["simulate"], ["demo", "load"],
                                  ["interactions", "complete"], ["alerts", "list"], ["token"]])
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0 and "usage: icsuite" in capsys.readouterr().out


def test_search_needs_a_criterion(gateways: Any) -> None:
    with pytest.raises(SystemExit, match="give --phone"):
        main(["accounts", "search"], transport=gateways.transport)
    assert gateways.requests == []


def test_reason_profiles_are_created_only_where_missing(gateways: Any) -> None:
    gateways.profiles["outage"] = {"priority": 9}  # an admin's edit stays
    results = seed_reason_profiles("http://127.0.0.1:8003", transport=gateways.transport)
    assert results["default"] == results["outage"] == "present"
    assert {c for c, r in results.items() if r == "created"} == set(REASON_PROFILES) - {"default", "outage"}
    assert gateways.profiles["outage"] == {"priority": 9}
    assert gateways.profiles["billing_question"] == REASON_PROFILES["billing_question"]


def test_field_prints_one_value_per_item_for_scripts(capsys: pytest.CaptureFixture[str], gateways: Any) -> None:
    code, out, _ = run(capsys, gateways, "callbacks", "claim-next", "--field", "callback_id")
    assert code == 0 and out == "cb-1\n"
    code, out, _ = run(capsys, gateways, "accounts", "search", "--phone", "+4930123456", "--field", "account_id")
    assert code == 0 and out == "acc-100001\n"
    code, out, _ = run(capsys, gateways, "contacts", "context", "sim-x-000001", "--field", "candidates")
    assert json.loads(out) == [{"account_id": "acc-100001", "score": 1.0}]
