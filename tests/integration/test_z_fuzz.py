"""Fuzzing every gateway from its OpenAPI document with schemathesis: no 5xx, responses match the schema.

Each operation of each service gets its own hypothesis run (schemathesis builds the strategy from the
OpenAPI document); failures are collected per operation so one report shows them all. Named to run last
in this folder: the fuzzer creates data (rules, accounts, follow-ups) that the other end-to-end tests
must not see while they count effects.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from icsuite_chassis.auth import mint_token

from e2e_report import REPORT

from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]
EXAMPLES = int(os.environ.get("IC_FUZZ_EXAMPLES", "20"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
calls: dict[str, int] = {}


def _fuzz_operation(suite, service: str, operation, headers: dict[str, str]) -> None:
    @FUZZ
    @given(case=operation.as_strategy())
    def run(case) -> None:
        case.call_and_validate(base_url=suite.url(service), headers=headers, checks=CHECKS, timeout=15)
        calls[service] = calls.get(service, 0) + 1

    run()


@pytest.mark.parametrize("service", ["identity", "interactions", "callbacks", "followups", "alerts"])
def test_fuzz_gateway(suite, service: str) -> None:
    schema = schemathesis.openapi.from_url(suite.url(service, "/openapi.json"))
    token = mint_token(suite.jwt_secret, "fuzz-admin", ["admin", "supervisor", "agent"])
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/stream"):
            continue  # a server-sent-event stream never ends; it has its own tests
        operations += 1
        try:
            _fuzz_operation(suite, service, operation, headers)
        except Exception as exc:  # hypothesis re-raises the minimal failing case
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    REPORT.setdefault("fuzz cases run", {})[service] = calls.get(service, 0)
    print(f"\nfuzz {service}: {operations} operations, {calls.get(service, 0)} cases, {len(failures)} failing")
    assert operations, f"{service} documents no operations"
    assert not failures, "\n\n".join(failures)
