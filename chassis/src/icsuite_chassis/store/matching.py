"""The small part of MongoDB's query language the in-memory store understands (for ``change_first``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_MISSING = object()


def _value(doc: Mapping[str, Any], path: str) -> Any:
    current: Any = doc
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _equal(value: Any, wanted: Any) -> bool:
    if isinstance(value, list) and not isinstance(wanted, list):
        return wanted in value
    return bool(value == wanted)


def _equal_or_null(value: Any, wanted: Any) -> bool:
    """Equality as MongoDB's ``$eq``/``$in`` see it: ``None`` wanted matches a missing field too."""
    if value is _MISSING:
        return wanted is None
    return _equal(value, wanted)


def _compare(value: Any, operator: str, operand: Any) -> bool:
    if operator == "$exists":
        return (value is not _MISSING) == bool(operand)
    if operator == "$eq":
        return _equal_or_null(value, operand)
    if operator == "$ne":
        return not _equal_or_null(value, operand)
    if operator == "$in":
        return any(_equal_or_null(value, item) for item in operand)
    if operator == "$nin":
        return not any(_equal_or_null(value, item) for item in operand)
    if operator == "$size":
        return isinstance(value, list) and len(value) == operand
    if value is _MISSING or value is None:
        return False
    try:
        return {"$lt": value < operand, "$lte": value <= operand,
                "$gt": value > operand, "$gte": value >= operand}[operator]
    except KeyError:
        raise NotImplementedError(f"the in-memory store does not understand {operator}") from None


def matches(doc: Mapping[str, Any], filter: Mapping[str, Any]) -> bool:
    for key, condition in filter.items():
        if key == "$or":
            if not any(matches(doc, branch) for branch in condition):
                return False
            continue
        if key == "$and":
            if not all(matches(doc, branch) for branch in condition):
                return False
            continue
        value = _value(doc, key)
        if isinstance(condition, Mapping) and condition and all(str(k).startswith("$") for k in condition):
            if not all(_compare(value, op, operand) for op, operand in condition.items()):
                return False
        elif value is _MISSING:
            if condition is not None:
                return False
        elif not _equal(value, condition):
            return False
    return True


def sort_key(a: Mapping[str, Any], b: Mapping[str, Any], sort: Sequence[tuple[str, int]]) -> int:
    """A comparison of two documents by ``sort`` (missing and ``None`` first, as MongoDB orders them)."""
    for path, direction in sort:
        left, right = _value(a, path), _value(b, path)
        left_key = (0, None) if left in (_MISSING, None) else (1, left)
        right_key = (0, None) if right in (_MISSING, None) else (1, right)
        if left_key[0] != right_key[0]:
            return (left_key[0] - right_key[0]) * direction
        if left_key[1] != right_key[1]:
            return (-1 if left_key[1] < right_key[1] else 1) * direction  # type: ignore[operator]
    return 0
