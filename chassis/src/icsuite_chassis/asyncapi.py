"""The AsyncAPI 3.0 document of a service's topics, built from the contracts' topic registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from icsuite_contracts.registry import topic as topic_named


def _ref_safe(name: str) -> str:
    return name.replace(".", "_").replace("-", "_")


def build_asyncapi(*, title: str, version: str, consumes: Sequence[str], produces: Sequence[str],
                   bootstrap: str) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for action, names in (("receive", consumes), ("send", produces)):
        for name in names:
            t = topic_named(name)
            channel_id = _ref_safe(t.name)
            channel_messages = {}
            for model in t.event_types:
                message_id = _ref_safe(model.ce_type)
                messages[message_id] = {
                    "name": model.ce_type,
                    "title": model.__name__,
                    "contentType": "application/json",
                    "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else model.__name__,
                    "payload": model.model_json_schema(),
                    "bindings": {"kafka": {"key": {"type": "string", "description": t.key_field}}},
                }
                channel_messages[message_id] = {"$ref": f"#/components/messages/{message_id}"}
            channels[channel_id] = {"address": t.name, "messages": channel_messages,
                                    "bindings": {"kafka": {"topic": t.name, "partitions": t.partitions}}}
            operations[f"{action}_{channel_id}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in channel_messages],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": version,
                 "description": "CloudEvents 1.0 in Kafka binary mode: attributes in ce_* headers, "
                                "the event data as the JSON body."},
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": bootstrap, "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
