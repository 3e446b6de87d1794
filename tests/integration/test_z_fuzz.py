"""Fuzzing every gateway from its OpenAPI document with schemathesis: no 5xx, responses match the schema.

Each operation of each service gets its own hypothesis run (schemathesis builds the strategy from the
OpenAPI document), and every case may carry a hostile value the document cannot describe
(:mod:`fuzz_strategies`): a well-formed cursor holding integers beyond int64, ``Infinity`` or a time in
the year 1 (signed for the list, so the parsing behind the signature is reached, or tampered with, signed
for another list or service, or unsigned), or a time query parameter at the edge of the calendar. Separate runs send hostile
``Last-Event-ID`` values to the alert stream and almost-right bearer tokens to every service. With
``IC_FUZZ_STATEFUL=1`` a stateful run follows the links schemathesis infers between operations (create,
then read, change, list what was created). Failures are collected per operation so one report shows them
all.

``make test`` runs ``IC_FUZZ_EXAMPLES=20`` cases per operation; ``make fuzz`` runs 100 and the stateful
phase. Named to run last in this folder: the fuzzer creates data (rules, accounts, follow-ups) that the
other end-to-end tests must not see while they count effects.
"""

import os
from collections import Counter

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from icsuite_chassis.auth import mint_token

from e2e_report import REPORT
from fuzz_strategies import HOSTILE_TIMES, STREAM_POSITIONS, almost_right_tokens, cursor_for, hostile_cursors

from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]
SERVICES = ["identity", "interactions", "callbacks", "followups", "alerts"]
EXAMPLES = int(os.environ.get("IC_FUZZ_EXAMPLES", "20"))
STATEFUL = os.environ.get("IC_FUZZ_STATEFUL", "") == "1"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
HOSTILE = st.fixed_dictionaries({"cursor": hostile_cursors(), "time": HOSTILE_TIMES,
                                 "use": st.sampled_from(["none", "cursor", "time"])})
calls: Counter[str] = Counter()
hostile: dict[str, Counter[str]] = {service: Counter() for service in SERVICES}


def _is_time(schema: dict) -> bool:
    return schema.get("format") == "date-time" or any(_is_time(b) for b in schema.get("anyOf", ()))


def _hostile_fields(operation) -> tuple[list[str], list[str]]:
    cursors = [p.name for p in operation.query if p.name == "cursor"]
    times = [p.name for p in operation.query if _is_time(p.definition.get("schema", {}))]
    return cursors, times


def _count(service: str, status: int) -> None:
    tally = hostile[service]
    tally["tried"] += 1
    tally["refused"] += 400 <= status < 500
    tally["5xx"] += status >= 500


def _report() -> None:
    REPORT["hostile inputs: tried / refused / 5xx"] = {
        service: f"{t['tried']} / {t['refused']} / {t['5xx']}" for service, t in hostile.items() if t["tried"]}


def _fuzz_operation(suite, service: str, operation, headers: dict[str, str]) -> None:
    cursors, times = _hostile_fields(operation)

    @FUZZ
    @given(case=operation.as_strategy(), extra=HOSTILE)
    def run(case, extra) -> None:
        names = {"cursor": cursors, "time": times}.get(extra["use"], [])
        if names:
            value = extra["time"] if extra["use"] == "time" else cursor_for(
                *extra["cursor"], secret=suite.jwt_secret, service=service, path=case.formatted_path)
            case.query = {**(case.query or {}), **{name: value for name in names}}
        response = case.call(base_url=suite.url(service), headers=headers, timeout=15)
        if names:
            _count(service, response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers,
                               transport_kwargs={"base_url": suite.url(service), "headers": headers, "timeout": 15})
        calls[service] += 1

    run()


@pytest.mark.parametrize("service", SERVICES)
def test_fuzz_gateway(suite, service: str) -> None:
    schema = schemathesis.openapi.from_url(suite.url(service, "/openapi.json"))
    token = mint_token(suite.jwt_secret, "fuzz-admin", ["admin", "supervisor", "agent"])
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/stream"):
            continue  # a server-sent-event stream never ends; test_fuzz_stream_positions fuzzes it
        operations += 1
        try:
            _fuzz_operation(suite, service, operation, headers)
        except Exception as exc:  # hypothesis re-raises the minimal failing case
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:3000]}")
    REPORT.setdefault("fuzz cases run", {})[service] = calls[service]
    _report()
    print(f"\nfuzz {service}: {operations} operations, {calls[service]} cases, {len(failures)} failing")
    assert operations, f"{service} documents no operations"
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("service", SERVICES)
def test_fuzz_bearer_tokens(suite, service: str) -> None:
    """Almost-right tokens (expired, other key, alg none, wrong claim types) answer 401/403 on every GET."""
    schema = schemathesis.openapi.from_url(suite.url(service, "/openapi.json"))
    paths = [op.path for op in (r.ok() for r in schema.get_all_operations())
             if op.method == "get" and "{" not in op.path and op.path.startswith("/v1/")]
    assert paths, f"{service} has no GET collection to probe"
    answers: Counter[int] = Counter()

    @FUZZ
    @given(path=st.sampled_from(paths), authorization=almost_right_tokens(suite.jwt_secret))
    def run(path: str, authorization: str) -> None:
        status = httpx.get(suite.url(service, path), headers={"Authorization": authorization.encode("latin-1")},
                           timeout=15).status_code
        answers[status] += 1
        _count(service, status)
        assert status in (401, 403), f"GET {path} with {authorization[:60]!r} answered {status}"

    run()
    _report()
    print(f"\nbearer tokens {service}: {dict(answers)}")


def test_fuzz_stream_positions(suite) -> None:
    """Hostile Last-Event-ID values (header or query) on the alert stream answer 200 or 422, never 5xx."""
    token = mint_token(suite.jwt_secret, "fuzz-agent", ["agent"])
    url = suite.url("alerts", "/v1/agents/fuzz-agent/alerts/stream")
    answers: Counter[int] = Counter()

    @FUZZ
    @given(position=STREAM_POSITIONS, as_header=st.booleans())
    @example(position="²", as_header=True)
    @example(position="9" * 5000, as_header=True)
    @example(position="9223372036854775808", as_header=False)
    def run(position: str, as_header: bool) -> None:
        headers = {b"Authorization": f"Bearer {token}".encode(), b"Last-Event-ID": position.encode("latin-1")}
        params: dict[str, str | float | int] = {"timeout_s": 0.2, "max_events": 1}
        if not as_header:
            del headers[b"Last-Event-ID"]
            params["last_event_id"] = position
        status = httpx.get(url, headers=headers, params=params, timeout=15).status_code
        answers[status] += 1
        _count("alerts", status)
        assert status < 500, f"Last-Event-ID {position[:40]!r} answered {status}"

    run()
    _report()
    print(f"\nstream positions: {dict(answers)}")


@pytest.mark.skipif(not STATEFUL, reason="the stateful phase runs in make fuzz (IC_FUZZ_STATEFUL=1)")
@pytest.mark.parametrize("service", SERVICES)
def test_fuzz_stateful_links(suite, service: str) -> None:
    """Sequences along the links schemathesis infers (create, then read, change and list it): no 5xx."""
    schema = schemathesis.openapi.from_url(suite.url(service, "/openapi.json"))
    token = mint_token(suite.jwt_secret, "fuzz-admin", ["admin", "supervisor", "agent"])
    base = suite.url(service)
    steps: Counter[str] = Counter()

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"base_url": base, "headers": {"Authorization": f"Bearer {token}"}, "timeout": 15}

        def call(self, case, **kwargs):
            if case.operation.path.endswith("/stream"):
                case.query = {**(case.query or {}), "timeout_s": 0.2, "max_events": 1}
            return case.call(**kwargs)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            steps[service] += 1
            case.validate_response(response, checks=CHECKS)

    Workflow.run(settings=settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                                   stateful_step_count=6, suppress_health_check=list(HealthCheck)))
    REPORT.setdefault("fuzz stateful steps", {})[service] = steps[service]
    print(f"\nstateful {service}: {steps[service]} steps")
    assert steps[service] > 0
