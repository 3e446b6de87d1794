"""What every gateway's OpenAPI document says beyond the routes: the bearer scheme and the problems.

Every operation except the probes and documents needs a bearer token (the contract's rule, which the
gateway tests hold every route to), so each names the ``bearer`` security scheme, which gives ``/docs``
its "Authorize" button and tells generated clients to send the token, and declares 401, 403 and 404.
Every error answer is documented as ``application/problem+json``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI

from .problems import problem_type

SECURITY_SCHEME = "bearer"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "One of the suite's problem types"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
_AUTH_ANSWERS = {
    "401": "No bearer token, or one that is expired or not valid",
    "403": "The token's roles, or the caller's relation to the object, do not allow this",
    "404": "The object named in the path (or the body) does not exist",
}

_INVALID_CURSOR = "The cursor is not one this list answered (changed, made up, or from another list)"


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def _problem_response(description: str, status: str) -> dict[str, Any]:
    example_type = problem_type(int(status)) if status.isdigit() else None
    content: dict[str, Any] = {"schema": {"$ref": "#/components/schemas/Problem"}}
    if example_type is not None:
        content["example"] = {"type": example_type.uri, "title": example_type.title, "status": int(status),
                              "detail": description}
    return {"description": description, "content": {"application/problem+json": content}}


def document_security_and_problems(app: FastAPI, unauthenticated: frozenset[str]) -> None:
    """Wrap ``app.openapi`` so the document carries the bearer scheme and every problem answer."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "A JWT with sub and roles (agent, supervisor, admin, channel); "
                           "`make token ROLE=agent SUB=a-1` prints a local one."}
        for path, _, operation in _operations(schema):
            responses = operation["responses"]
            if path not in unauthenticated:
                operation["security"] = [{SECURITY_SCHEME: []}]
                for status, description in _AUTH_ANSWERS.items():
                    responses.setdefault(status, {"description": description})
                responses.setdefault("422", {"description": "Invalid request"})
            if any(p.get("name") == "cursor" and p.get("in") == "query" for p in operation.get("parameters", ())):
                responses.setdefault("400", {"description": _INVALID_CURSOR})
            for status, response in responses.items():
                if status.startswith(("4", "5")) or status == "default":
                    responses[status] = {**_problem_response(response.get("description", ""), status)}
            responses.setdefault("default", _problem_response("Problem details", "default"))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
