"""The five OpenAPI documents: valid for openapi-spec-validator, with the bearer scheme on every operation
that needs a token, 401/403/404 declared there, and every error answer a problem document."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.unit

UNAUTHENTICATED = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}


def _operations(document: dict[str, Any]):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_openapi_spec_validator_accepts_every_document(documents: dict[str, dict[str, Any]]) -> None:
    for service, served in documents.items():
        validate(served["openapi"])  # raises with the first violation


def test_operations_with_a_token_name_the_bearer_scheme_and_declare_401_403_404(
        documents: dict[str, dict[str, Any]]) -> None:
    for service, served in documents.items():
        document = served["openapi"]
        assert document["components"]["securitySchemes"]["bearer"] == {
            **document["components"]["securitySchemes"]["bearer"], "type": "http", "scheme": "bearer"}
        secured = 0
        for path, method, operation in _operations(document):
            where = f"{service} {method.upper()} {path}"
            if path in UNAUTHENTICATED:
                assert "security" not in operation, where
                continue
            secured += 1
            assert operation.get("security") == [{"bearer": []}], where
            assert {"401", "403", "404"} <= set(operation["responses"]), where
        assert secured > 3, service


def test_every_error_answer_is_a_problem_document(documents: dict[str, dict[str, Any]]) -> None:
    for service, served in documents.items():
        for path, method, operation in _operations(served["openapi"]):
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) or status == "default":
                    content = response["content"]
                    assert list(content) == ["application/problem+json"], f"{service} {path} {status}"


def test_every_operation_said_to_need_a_token_refuses_a_call_without_one(service_apps, documents) -> None:
    import asyncio

    import httpx

    async def call_all() -> list[str]:
        wrong = []
        for service, app in service_apps.items():
            transport = httpx.ASGITransport(app=app)  # no lifespan: the refusal must come before any I/O
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
                for path, method, operation in _operations(documents[service]["openapi"]):
                    if "security" not in operation:
                        continue
                    url = path.replace("{", "").replace("}", "")  # every path parameter gets its own name
                    answer = await client.request(method.upper(), url)
                    if answer.status_code != 401 or not answer.json()["type"].endswith("/unauthorized"):
                        wrong.append(f"{service} {method.upper()} {path}: {answer.status_code}")
        return wrong

    assert asyncio.run(call_all()) == []
