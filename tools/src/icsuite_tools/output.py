"""Readable output for people (tables, key/value blocks) and JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

MAX_CELL = 48


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def cell(value: Any, width: int = MAX_CELL) -> str:
    """One value as table text: ``-`` for nothing, lists joined, nested objects as compact JSON."""
    if value is None or value == "" or value == []:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def choose_columns(rows: Sequence[Mapping[str, Any]], preferred: Sequence[str] = ()) -> list[str]:
    """The preferred columns that occur in ``rows``, else every key of the rows in first-seen order."""
    present: dict[str, None] = {}
    for row in rows:
        present.update(dict.fromkeys(row))
    chosen = [c for c in preferred if c in present]
    return chosen or list(present)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain-text table with a header line; ``(none)`` for no rows."""
    if not rows:
        return "(none)"
    columns = list(columns or choose_columns(rows))
    body = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *(line(r) for r in body)])


def record(obj: Mapping[str, Any], title: str | None = None) -> str:
    """An object as aligned ``key  value`` lines; lists of objects follow as titled tables."""
    scalars = {k: v for k, v in obj.items() if not _is_object_list(v) and not isinstance(v, dict)}
    nested = {k: v for k, v in obj.items() if isinstance(v, dict)}
    lists = {k: v for k, v in obj.items() if _is_object_list(v)}
    for name, inner in nested.items():  # one level of nesting flattened: address.city
        for key, value in inner.items():
            if isinstance(value, dict) or _is_object_list(value):
                lists.setdefault(f"{name}.{key}", value if isinstance(value, list) else [value])
            else:
                scalars[f"{name}.{key}"] = value
    width = max((len(k) for k in scalars), default=0)
    parts = [title] if title else []
    parts += [f"{key.ljust(width)}  {cell(value, 100)}" for key, value in scalars.items()]
    for name, rows in lists.items():
        parts += ["", f"{name}:", _indent(table(rows))]
    return "\n".join(parts)


def _is_object_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def page(data: Any, preferred: Sequence[str] = ()) -> str:
    """A list answer (``{"items": [...], "next_cursor": ...}`` or a bare list) as a table."""
    items, cursor = items_of(data)
    text = table(items, choose_columns(items, preferred) if items else None)
    if cursor:
        text += f"\n(more: --cursor {cursor})"
    return text


def items_of(data: Any) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(data, list):
        return data, None
    if isinstance(data, dict):
        for key in ("items", "candidates", "results"):
            if isinstance(data.get(key), list):
                return data[key], data.get("next_cursor")
    return [data] if isinstance(data, dict) else [], None


def field(data: Any, name: str) -> str:
    """One field of an answer, for shell scripts: ``a.b`` reaches into objects; a list gives a line each."""
    items, _ = items_of(data) if not (isinstance(data, dict) and name.split(".")[0] in data) else ([data], None)

    def pick(obj: Any) -> str:
        for part in name.split("."):
            obj = obj.get(part) if isinstance(obj, dict) else None
        return "" if obj is None else (obj if isinstance(obj, str) else json.dumps(obj, default=str))

    return "\n".join(pick(item) for item in items)
