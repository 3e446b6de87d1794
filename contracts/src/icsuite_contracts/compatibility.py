"""Backward compatibility between two JSON Schemas of one event type.

A change is compatible when every message valid under one version stays readable under the other by a
tolerant reader: only new optional fields may appear. Everything else is reported as breaking:
a field removed or renamed, a type changed (including the values of an enum or a constant, a format,
or nullability), an optional field made required, or a new required field.
Constraints such as lengths and patterns are not compared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["compatibility"]

Schema = Mapping[str, Any]
_MAX_DEPTH = 64


def compatibility(old_schema: Schema, new_schema: Schema) -> list[str]:
    """The breaking changes from ``old_schema`` to ``new_schema``; empty when compatible.

    ``$ref`` pointers are resolved against each schema's own root (``$defs``).
    """
    return _Comparison(old_schema, new_schema).compare(old_schema, new_schema, "", 0)


def _resolve(root: Schema, schema: Schema) -> Schema:
    """Follow ``$ref`` pointers (``#/...``) within ``root``, keeping sibling keywords."""
    for _ in range(_MAX_DEPTH):
        ref = schema.get("$ref")
        if ref is None:
            return schema
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise ValueError(f"only local $ref pointers are supported, got {ref!r}")
        target: Any = root
        for part in filter(None, ref[1:].split("/")):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **siblings}
    raise ValueError("$ref chain too long")


def _branches(root: Schema, schema: Schema) -> list[Schema]:
    """The alternatives a schema allows: anyOf/oneOf flattened, type lists split."""
    schema = _resolve(root, schema)
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            return [b for sub in schema[keyword] for b in _branches(root, sub)]
    if len(schema.get("allOf", ())) == 1:
        return _branches(root, schema["allOf"][0])
    types = schema.get("type")
    if isinstance(types, list):
        return [{**schema, "type": t} for t in types]
    return [schema]


def _kind(branch: Schema) -> str:
    """What a branch accepts, as far as compatibility is concerned."""
    if "const" in branch:
        return f"const {json.dumps(branch['const'])}"
    if "enum" in branch:
        return "enum " + json.dumps(sorted(json.dumps(v) for v in branch["enum"]))
    kind = branch.get("type", "any")
    if kind == "object":
        return "object" if "properties" in branch else "map"
    if "format" in branch:
        return f"{kind}({branch['format']})"
    return str(kind)


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root

    def compare(self, old: Schema, new: Schema, path: str, depth: int) -> list[str]:
        if depth > _MAX_DEPTH:
            return []
        old_kinds = {_kind(b): b for b in _branches(self.old_root, old)}
        new_kinds = {_kind(b): b for b in _branches(self.new_root, new)}
        if set(old_kinds) != set(new_kinds):
            before, after = " | ".join(sorted(old_kinds)), " | ".join(sorted(new_kinds))
            return [f"{path or '<root>'}: type changed from {before} to {after}"]
        issues: list[str] = []
        for kind, old_branch in old_kinds.items():
            new_branch = new_kinds[kind]
            if kind == "object":
                issues += self.compare_object(old_branch, new_branch, path, depth + 1)
            elif kind == "array":
                issues += self.compare(
                    _subschema(old_branch, "items"), _subschema(new_branch, "items"), f"{path}[]", depth + 1
                )
            elif kind == "map":
                issues += self.compare(
                    _subschema(old_branch, "additionalProperties"),
                    _subschema(new_branch, "additionalProperties"),
                    f"{path}{{}}",
                    depth + 1,
                )
        return issues

    def compare_object(self, old: Schema, new: Schema, path: str, depth: int) -> list[str]:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        issues: list[str] = []
        for name, old_prop in old_props.items():
            where = f"{path}.{name}" if path else name
            if name not in new_props:
                issues.append(f"{where}: field removed or renamed")
                continue
            if name in new_required and name not in old_required:
                issues.append(f"{where}: optional field became required")
            issues += self.compare(old_prop, new_props[name], where, depth)
        for name in sorted(new_props.keys() - old_props.keys()):
            if name in new_required:
                where = f"{path}.{name}" if path else name
                issues.append(f"{where}: new required field")
        return issues


def _subschema(schema: Schema, keyword: str) -> Schema:
    value = schema.get(keyword, {})
    return value if isinstance(value, Mapping) else {}
