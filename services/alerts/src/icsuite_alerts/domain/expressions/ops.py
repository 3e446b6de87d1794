"""Runtime semantics of CEL operators over JSON-like values (None, bool, int, float, str, list, dict).

Python's own operators differ from CEL where it matters (``true + 1``, ``"a" * 3``, ``"a" in "abc"``,
unbounded integers, float division of integers), so every operator checks its operand types and raises
:class:`EvalError` where CEL has no overload.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import EvalError

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_NUMBERS = (int, float)


def is_number(value: Any) -> bool:
    return type(value) in _NUMBERS


def check_int(value: int) -> int:
    if value < INT_MIN or value > INT_MAX:
        raise EvalError("integer overflow")
    return value


def equals(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in _NUMBERS and tb in _NUMBERS:
        return a == b
    if ta is not tb:
        return False
    if ta is list:
        return len(a) == len(b) and all(equals(x, y) for x, y in zip(a, b))
    if ta is dict:
        return a.keys() == b.keys() and all(equals(v, b[k]) for k, v in a.items())
    return bool(a == b)


def _comparable(a: Any, b: Any) -> None:
    ta, tb = type(a), type(b)
    if ta in _NUMBERS and tb in _NUMBERS:
        return
    if ta is tb and ta in (str, bool):
        return
    raise EvalError(f"no ordering between {type_name(a)} and {type_name(b)}")


def less(a: Any, b: Any) -> bool:
    _comparable(a, b)
    return bool(a < b)


def less_equal(a: Any, b: Any) -> bool:
    _comparable(a, b)
    return bool(a <= b)


def greater(a: Any, b: Any) -> bool:
    _comparable(a, b)
    return bool(a > b)


def greater_equal(a: Any, b: Any) -> bool:
    _comparable(a, b)
    return bool(a >= b)


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is int:
            return check_int(a + b)
        if ta in (float, str, list):
            return a + b
    raise EvalError(f"no operator + for {type_name(a)} and {type_name(b)}")


def _numbers(a: Any, b: Any, op: str) -> None:
    """CEL has no mixed arithmetic: both int or both double (``1 + 1.0`` is an error)."""
    if type(a) is not type(b) or type(a) not in _NUMBERS:
        raise EvalError(f"no operator {op} for {type_name(a)} and {type_name(b)}")


def subtract(a: Any, b: Any) -> Any:
    _numbers(a, b, "-")
    result = a - b
    return check_int(result) if type(result) is int else result


def multiply(a: Any, b: Any) -> Any:
    _numbers(a, b, "*")
    result = a * b
    return check_int(result) if type(result) is int else result


def divide(a: Any, b: Any) -> Any:
    _numbers(a, b, "/")
    if type(a) is int:
        if b == 0:
            raise EvalError("division by zero")
        quotient = abs(a) // abs(b)
        return check_int(quotient if (a >= 0) == (b >= 0) else -quotient)
    if b == 0:  # IEEE 754, as CEL: 1.0 / 0.0 is +Infinity, 0.0 / 0.0 is NaN
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def modulo(a: Any, b: Any) -> Any:
    if type(a) is not int or type(b) is not int:
        raise EvalError(f"no operator % for {type_name(a)} and {type_name(b)}")
    if b == 0:
        raise EvalError("modulus by zero")
    remainder = abs(a) % abs(b)
    return remainder if a >= 0 else -remainder


def negate(a: Any) -> Any:
    if type(a) not in _NUMBERS:
        raise EvalError(f"no operator - for {type_name(a)}")
    return check_int(-a) if type(a) is int else -a


def logical_not(a: Any) -> bool:
    if type(a) is not bool:
        raise EvalError(f"no operator ! for {type_name(a)}")
    return not a


def contained_in(item: Any, container: Any) -> bool:
    if type(container) is list:
        return any(equals(item, x) for x in container)
    if type(container) is dict:
        return item in container if type(item) in (str, int, bool) else False
    raise EvalError(f"no operator 'in' for {type_name(container)}")


def map_of(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    """A map literal: keys are strings, ints or bools, each once (``{"a": 1, "a": 2}`` is an error)."""
    built = {}
    for key, value in pairs:
        if type(key) not in (str, int, bool):
            raise EvalError(f"a map key must be a string, an int or a bool, not {type_name(key)}")
        if key in built:
            raise EvalError(f"the key {key!r} appears twice in a map literal")
        built[key] = value
    return built


def index(container: Any, key: Any) -> Any:
    if type(container) is list:
        if type(key) is not int or not 0 <= key < len(container):
            raise EvalError("list index out of range")
        return container[key]
    if type(container) is dict:
        if key not in container:
            raise EvalError(f"no such key: {key!r}")
        return container[key]
    raise EvalError(f"cannot index {type_name(container)}")


def select(obj: Any, field: str) -> Any:
    if type(obj) is not dict:
        raise EvalError(f"no field {field!r} on {type_name(obj)}")
    if field not in obj:
        raise EvalError(f"no such field: {field!r}")
    return obj[field]


def size(value: Any) -> int:
    if type(value) in (str, list, dict):
        return len(value)
    raise EvalError(f"no size of {type_name(value)}")


def type_name(value: Any) -> str:
    return {type(None): "null", bool: "bool", int: "int", float: "double", str: "string",
            list: "list", dict: "map"}.get(type(value), type(value).__name__)
