"""The AsyncAPI 3.0 document of a service's topics, built from the contracts' topic registry.

Each event model's JSON Schema becomes a message payload. Pydantic nests the schemas a model uses under
its own ``$defs`` and refers to them as ``#/$defs/Name``, which a document-level reader resolves from
the document root; so those definitions are hoisted to ``components/schemas`` and every reference is
rewritten to point there. Every message declares the CloudEvents binary-mode envelope it travels in
as its ``headers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from icsuite_contracts.base import Event
from icsuite_contracts.registry import topic as topic_named

KAFKA_BINDING_VERSION = "0.5.0"
_SCHEMAS = "#/components/schemas/"


def _ref_safe(name: str) -> str:
    return name.replace(".", "_").replace("-", "_")


def cloudevents_headers(ce_type: str) -> dict[str, Any]:
    """The ``ce_*`` headers (CloudEvents 1.0, Kafka binary mode) of a message of ``ce_type``."""
    text = {"type": "string", "minLength": 1}
    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes in Kafka binary mode; values may be percent-encoded.",
        "required": ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time"],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": {**text, "description": "The event id; consumers drop a second delivery of it."},
            "ce_type": {"type": "string", "const": ce_type},
            "ce_source": {**text, "description": "The producing service or channel."},
            "ce_time": {"type": "string", "format": "date-time"},
            "ce_subject": {**text, "description": "The aggregate id (the Kafka key)."},
            "ce_correlationid": {**text, "description": "The contact or request that started the chain."},
            "ce_causationid": {**text, "description": "The id of the event that caused this one."},
            "ce_traceparent": {"type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}",
                               "description": "W3C Trace Context of the operation that emitted it."},
            "content-type": {"type": "string", "const": "application/json"},
        },
    }


class _SchemaHoister:
    """Collects the ``$defs`` of every payload under one name each, rewriting the references."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def payload(self, model: type[Event]) -> dict[str, Any]:
        schema = model.model_json_schema()
        renames: dict[str, str] = {}
        definitions = schema.pop("$defs", {})
        for name, definition in definitions.items():
            renames[name] = self._free_name(name, definition, model)
        for name, definition in definitions.items():
            self.schemas[renames[name]] = _rewrite(definition, renames)
        return _rewrite(schema, renames)  # type: ignore[no-any-return]

    def _free_name(self, name: str, definition: Any, model: type[Event]) -> str:
        """``name`` unless another model already used it for a different schema."""
        candidate = name
        if candidate in self.schemas and self.schemas[candidate] != definition:
            candidate = f"{model.__name__}{name}"
        return candidate


def _rewrite(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_rewrite(item, renames) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _rewrite(value, renames) for key, value in node.items()}
    ref = result.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        result["$ref"] = _SCHEMAS + renames.get(ref[len("#/$defs/"):], ref[len("#/$defs/"):])
    return result


def _message(model: type[Event], key_field: str, hoister: _SchemaHoister) -> dict[str, Any]:
    summary = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else model.__name__
    return {
        "name": model.ce_type,
        "title": model.__name__,
        "contentType": "application/json",
        "summary": summary,
        "headers": cloudevents_headers(model.ce_type),
        "payload": hoister.payload(model),
        "bindings": {"kafka": {"key": {"type": "string", "description": key_field},
                               "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def build_asyncapi(*, title: str, version: str, consumes: Sequence[str], produces: Sequence[str],
                   bootstrap: str) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    hoister = _SchemaHoister()
    for action, names in (("receive", consumes), ("send", produces)):
        for name in names:
            t = topic_named(name)
            channel_id = _ref_safe(t.name)
            channel_messages = {}
            for model in t.event_types:
                message_id = _ref_safe(model.ce_type)
                messages[message_id] = _message(model, t.key_field, hoister)
                channel_messages[message_id] = {"$ref": f"#/components/messages/{message_id}"}
            channels[channel_id] = {"address": t.name, "messages": channel_messages,
                                    "bindings": {"kafka": {"topic": t.name, "partitions": t.partitions,
                                                           "bindingVersion": KAFKA_BINDING_VERSION}}}
            operations[f"{action}_{channel_id}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in channel_messages],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": version,
                 "description": "CloudEvents 1.0 on Kafka: binary mode (attributes in ce_* headers, the event "
                                "data as the JSON body) is written; binary and structured mode are read."},
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": bootstrap, "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": hoister.schemas, "messages": messages},
    }
