"""The AsyncAPI viewer: a service's AsyncAPI document as one readable HTML page at ``/asyncapi``.

The page is rendered here from the document the gateway serves at ``/asyncapi.json``: what the service
receives and sends per topic (with partitions and the Kafka key), then each message with its summary,
its CloudEvents headers and its payload fields (type, required, limits, description), then the shared
schemas the payloads refer to. It is plain HTML with its styles inline: no script, nothing loaded from
another host, so it works offline and under a strict Content-Security-Policy.
"""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:6px 0 0;opacity:.85}main{padding:18px 28px;max-width:1200px}
h2{margin:28px 0 10px;font-size:18px}h3{margin:0 0 4px;font-size:16px}
section.card{background:#fff;border:1px solid #d8dde5;border-radius:6px;padding:14px 16px;margin:12px 0}
table{border-collapse:collapse;width:100%;margin:6px 0 10px}th,td{text-align:left;padding:4px 8px;
border-bottom:1px solid #e6e9ee;vertical-align:top}th{background:#eef1f5;font-weight:600}
code{font:13px ui-monospace,monospace;background:#eef1f5;padding:1px 4px;border-radius:3px}
.receive{color:#0b6b3a;font-weight:600}.send{color:#8a4b00;font-weight:600}.muted{color:#5b6472}
nav a{margin-right:12px}
"""


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type_of(schema: dict[str, Any]) -> str:
    """A short type text: ``string (date-time)``, ``array of Note``, a link to a shared schema."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return " | ".join(_type_of(option) for option in schema[combinator])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{escape(str(v))}</code>" for v in schema["enum"])
    if "const" in schema:
        return f"<code>{escape(str(schema['const']))}</code>"
    detail = schema.get("format")
    return escape(str(kind)) + (f" ({escape(str(detail))})" if detail else "")


def _limits(schema: dict[str, Any]) -> str:
    names = ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "maxProperties", "pattern")
    found = [f"{name} {schema[name]}" for name in names if name in schema]
    for option in schema.get("anyOf", ()):
        found += [f"{name} {option[name]}" for name in names if name in option]
    return escape(", ".join(found))


def _fields(schema: dict[str, Any]) -> str:
    properties = schema.get("properties") or {}
    if not properties:
        return f'<p class="muted">{_type_of(schema)}</p>'
    required = set(schema.get("required") or ())
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{_type_of(field)}</td>"
        f"<td>{'yes' if name in required else ''}</td><td>{_limits(field)}</td>"
        f"<td>{escape(str(field.get('description') or field.get('title') or ''))}</td></tr>"
        for name, field in properties.items())
    return ("<table><tr><th>field</th><th>type</th><th>required</th><th>limits</th><th>description</th></tr>"
            f"{rows}</table>")


def _operations(document: dict[str, Any]) -> str:
    rows = []
    for operation in document.get("operations", {}).values():
        channel = document["channels"][_ref_name(operation["channel"]["$ref"])]
        kafka = channel.get("bindings", {}).get("kafka", {})
        links = ", ".join(f'<a href="#message-{escape(_ref_name(m["$ref"]))}">'
                          f'{escape(document["components"]["messages"][_ref_name(m["$ref"])]["name"])}</a>'
                          for m in operation.get("messages", ()))
        rows.append(f'<tr><td class="{escape(operation["action"])}">{escape(operation["action"])}</td>'
                    f'<td><code>{escape(channel["address"])}</code></td><td>{escape(str(kafka.get("partitions", "")))}'
                    f"</td><td>{links}</td></tr>")
    return ("<table><tr><th>action</th><th>topic</th><th>partitions</th><th>messages</th></tr>"
            + "".join(rows) + "</table>")


def _message(message_id: str, message: dict[str, Any]) -> str:
    key = message.get("bindings", {}).get("kafka", {}).get("key", {}).get("description", "")
    return (f'<section class="card" id="message-{escape(message_id)}"><h3>{escape(message["name"])}</h3>'
            f'<p>{escape(message.get("summary", ""))} <span class="muted">({escape(message.get("title", ""))}, '
            f"Kafka key: <code>{escape(key)}</code>, {escape(message.get('contentType', ''))})</span></p>"
            f"<h4>Payload</h4>{_fields(message.get('payload', {}))}"
            f"<h4>Headers</h4>{_fields(message.get('headers', {}))}</section>")


def _schemas(document: dict[str, Any]) -> str:
    schemas = document.get("components", {}).get("schemas", {})
    return "".join(f'<section class="card" id="schema-{escape(name)}"><h3>{escape(name)}</h3>'
                   f"<p>{escape(str(schema.get('description', '')))}</p>{_fields(schema)}</section>"
                   for name, schema in sorted(schemas.items()))


def render_asyncapi_page(document: dict[str, Any]) -> str:
    """The HTML page of an AsyncAPI 3.0 document made by :func:`icsuite_chassis.asyncapi.build_asyncapi`."""
    info = document.get("info", {})
    messages = document.get("components", {}).get("messages", {})
    title = escape(info.get("title", "AsyncAPI"))
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>'
        f'<body><header><h1>{title} <span class="muted">{escape(info.get("version", ""))}</span></h1>'
        f'<p>{escape(info.get("description", ""))}</p></header><main>'
        '<nav><a href="#operations">Topics</a><a href="#messages">Messages</a><a href="#schemas">Schemas</a>'
        '<a href="asyncapi.json">asyncapi.json</a><a href="docs">HTTP API (/docs)</a></nav>'
        f'<h2 id="operations">Topics</h2>{_operations(document)}'
        f'<h2 id="messages">Messages</h2>{"".join(_message(i, m) for i, m in messages.items())}'
        f'<h2 id="schemas">Schemas</h2>{_schemas(document)}</main></body></html>'
    )
