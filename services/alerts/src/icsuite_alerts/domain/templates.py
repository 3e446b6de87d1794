"""Message templates: text with placeholders such as ``{facts.dunning_level}`` or ``{event.contact_id}``.

``{{`` and ``}}`` stand for literal braces. A placeholder must name a known fact or an event field of the
rule's trigger types; anything else is refused when the rule is saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .expressions.errors import CompileError, position_at

MAX_MESSAGE_LENGTH = 1000
MAX_RENDERED_LENGTH = 4096
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class MessageTemplate:
    parts: tuple[str | tuple[str, ...], ...]

    def render(self, activation: Mapping[str, Any]) -> str:
        out: list[str] = []
        for part in self.parts:
            out.append(part if isinstance(part, str) else _format(_lookup(activation, part)))
        return "".join(out)[:MAX_RENDERED_LENGTH]


def parse_template(text: str, *, fact_names: frozenset[str] | set[str],
                   event_fields: frozenset[str] | None) -> MessageTemplate:
    if len(text) > MAX_MESSAGE_LENGTH:
        raise CompileError(f"the message is longer than {MAX_MESSAGE_LENGTH} characters",
                           position_at(text, MAX_MESSAGE_LENGTH), kind="too_long")
    parts: list[str | tuple[str, ...]] = []
    last = 0
    for match in _TOKEN.finditer(text):
        parts.append(text[last:match.start()])
        last = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
            continue
        if match.group(1) is None:
            raise CompileError(f"an unmatched '{token}'; write '{token * 2}' for a literal brace",
                               position_at(text, match.start()), kind="template")
        parts.append(_placeholder(text, match, fact_names, event_fields))
    parts.append(text[last:])
    return MessageTemplate(tuple(p for p in parts if p != ""))


def _placeholder(text: str, match: re.Match[str], fact_names: Any, event_fields: frozenset[str] | None) -> tuple[str, ...]:
    name = match.group(1).strip()
    where = position_at(text, match.start(1))
    if not _PATH.match(name):
        raise CompileError(f"the placeholder '{{{name}}}' is not a name such as facts.balance", where,
                           kind="unknown_placeholder")
    path = tuple(name.split("."))
    if path[0] == "facts" and len(path) == 2 and path[1] in fact_names:
        return path
    if path[0] == "event" and len(path) >= 2 and (event_fields is None or path[1] in event_fields):
        return path
    raise CompileError(f"unknown placeholder '{{{name}}}'; use facts.<fact> or event.<field> of the triggers",
                       where, kind="unknown_placeholder")


def _lookup(activation: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = activation
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _format(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}" if not value.is_integer() else str(int(value))
    if isinstance(value, list):
        return ", ".join(_format(v) for v in value)
    return str(value)
