"""``make docs``: the suite's contract, written from what the code declares.

    python -m icsuite_tools.contract_docs write    # docs/contract.md and docs/api/<service>.{openapi,asyncapi}.json
    python -m icsuite_tools.contract_docs check    # exit 1 if any of them is not current

Each service's app is built as ``main`` builds it (never started: its documents need no I/O), with the
default local addresses so the files do not depend on the machine. ``docs/contract.md`` lists per service
its HTTP operations (from its OpenAPI document) and the topics it receives and sends (from its AsyncAPI
document), then every event type of the contracts with its fields, key and limits (from the models'
JSON Schemas). The services are imported by name: the tools package runs in the suite's workspace.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
from pathlib import Path
from typing import Any

import httpx
from icsuite_contracts.registry import TOPICS

SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")
ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
_METHODS = ("get", "post", "put", "patch", "delete")


def _settings_class(service: str) -> type[Any]:
    module = importlib.import_module(f"icsuite_{service}.settings")
    return next(value for name, value in vars(module).items()
                if name.endswith("Settings") and getattr(value, "__module__", "") == module.__name__)


async def _documents(service: str) -> dict[str, Any]:
    settings = _settings_class(service)(kafka_bootstrap_servers="127.0.0.1:9092",
                                        mongodb_uri="mongodb://127.0.0.1:27017")
    app = importlib.import_module(f"icsuite_{service}.bootstrap").build_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        return {name: (await client.get(f"/{name}.json")).raise_for_status().json()
                for name in ("openapi", "asyncapi")}


def collect() -> dict[str, dict[str, Any]]:
    """service -> {"openapi": ..., "asyncapi": ...}."""
    return {service: asyncio.run(_documents(service)) for service in SERVICES}


def _cell(text: Any) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def _http_section(openapi: dict[str, Any]) -> list[str]:
    lines = ["| method | path | what | answers |", "| --- | --- | --- | --- |"]
    for path, operations in openapi.get("paths", {}).items():
        for method in _METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            answers = ", ".join(sorted(s for s in operation.get("responses", {}) if s != "default"))
            lines.append(f"| {method.upper()} | `{path}` | {_cell(operation.get('summary'))} | {answers} |")
    return lines


def _events_section(asyncapi: dict[str, Any]) -> list[str]:
    lines = ["| direction | topic | event types |", "| --- | --- | --- |"]
    messages = asyncapi["components"]["messages"]
    for operation in asyncapi.get("operations", {}).values():
        channel = asyncapi["channels"][operation["channel"]["$ref"].rsplit("/", 1)[-1]]
        names = [messages[m["$ref"].rsplit("/", 1)[-1]]["name"] for m in operation.get("messages", ())]
        types = ", ".join(f"[`{name}`](#{_anchor(name)})" for name in names)
        lines.append(f"| {operation['action']} | `{channel['address']}` | {types} |")
    return lines


def _anchor(ce_type: str) -> str:
    return ce_type.replace(".", "")


def _type_text(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return " or ".join(_type_text(option) for option in schema[combinator])
    if schema.get("type") == "array":
        return f"list of {_type_text(schema.get('items', {}))}"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    return str(schema.get("type", "any")) + (f" ({schema['format']})" if "format" in schema else "")


def _limit_text(schema: dict[str, Any]) -> str:
    names = ("maxLength", "maxItems", "maxProperties", "minimum", "maximum")
    options = [schema, *schema.get("anyOf", ())]
    return ", ".join(f"{name} {option[name]}" for option in options for name in names if name in option)


def _event_section(topic: Any, model: Any) -> list[str]:
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    summary = _cell((model.__doc__ or "").strip().split("\n\n")[0])
    lines = [f"### {model.ce_type}", "", f"{summary} Topic `{topic.name}`, key `{topic.key_field}`.", "",
             "| field | type | required | limit | meaning |", "| --- | --- | --- | --- | --- |"]
    for name, field in schema.get("properties", {}).items():
        lines.append(f"| `{name}` | {_cell(_type_text(field))} | {'yes' if name in required else ''} | "
                     f"{_limit_text(field)} | {_cell(field.get('description'))} |")
    return [*lines, ""]


def render_contract(documents: dict[str, dict[str, Any]]) -> str:
    lines = ["# The icsuite contract", "",
             "Generated by `make docs` (`python -m icsuite_tools.contract_docs write`) from the code: the",
             "gateways' OpenAPI documents, their AsyncAPI documents and the event models of `contracts/`.",
             "A test fails when this file is not current. The machine-readable documents are beside it in",
             "[api/](api/); a running gateway serves them at `/openapi.json` and `/asyncapi.json`, and as",
             "pages at `/docs` and `/asyncapi`. Errors are RFC 9457 problems: [problems/](problems/README.md).",
             "", "Every event travels as a CloudEvent 1.0 in Kafka binary mode (`ce_*` headers, JSON data);",
             "`ce_subject` is the Kafka key, `ce_correlationid` the contact or request that started the chain,",
             "`ce_traceparent` the W3C trace context.", ""]
    for service, docs in documents.items():
        lines += [f"## {service}", "", f"{_cell(docs['openapi']['info'].get('description'))}", "",
                  "### HTTP", "", *_http_section(docs["openapi"]), "", "### Events", "",
                  *_events_section(docs["asyncapi"]), ""]
    lines += ["## Event types", ""]
    for topic in TOPICS:
        for model in topic.event_types:
            lines += _event_section(topic, model)
    return "\n".join(lines).rstrip() + "\n"


def expected_files(documents: dict[str, dict[str, Any]]) -> dict[Path, str]:
    files = {DOCS / "contract.md": render_contract(documents)}
    for service, docs in documents.items():
        for name, document in docs.items():
            files[DOCS / "api" / f"{service}.{name}.json"] = json.dumps(document, indent=2, sort_keys=True) + "\n"
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write or check docs/contract.md and docs/api/.")
    parser.add_argument("command", choices=["write", "check"])
    args = parser.parse_args(argv)
    files = expected_files(collect())
    stale = [path for path, text in files.items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.command == "check":
        for path in stale:
            print(f"not current: {path.relative_to(ROOT)} (run make docs)", file=sys.stderr)
        raise SystemExit(1 if stale else 0)
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
    print(f"docs: {len(stale)} of {len(files)} files written", file=sys.stderr)


if __name__ == "__main__":
    main()
