"""The functions a condition may call; anything else is refused at compile time.

Regular expressions (``matches``) are left out on purpose: a hostile pattern could take unbounded time.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable
from typing import Any

from .errors import EvalError
from .ops import check_int, size, type_name


def _to_int(value: Any) -> int:
    if type(value) is int:
        return value
    if type(value) is float:
        if not math.isfinite(value):
            raise EvalError("cannot convert a non-finite double to int")
        return check_int(int(value))
    if type(value) is str:
        if len(value) > 24 or _INTEGER.fullmatch(value) is None:
            raise EvalError(f"cannot convert {value[:40]!r} to int")
        return check_int(int(value, 10))
    raise EvalError(f"no int() of {type_name(value)}")


def _to_double(value: Any) -> float:
    if type(value) in (int, float):
        return float(value)
    if type(value) is str:
        if len(value) > 64 or _DOUBLE.fullmatch(value) is None:
            raise EvalError(f"cannot convert {value[:40]!r} to double")
        return float(value)
    raise EvalError(f"no double() of {type_name(value)}")


def _to_string(value: Any) -> str:
    if type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) in (int, float):
        return repr(value)
    raise EvalError(f"no string() of {type_name(value)}")


def _string_method(name: str, fn: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    def method(target: Any, arg: Any) -> bool:
        if type(target) is not str or type(arg) is not str:
            raise EvalError(f"no {name}() for {type_name(target)} and {type_name(arg)}")
        return fn(target, arg)

    return method


def _case(name: str, fn: Callable[[str], str]) -> Callable[[Any], str]:
    def method(target: Any) -> str:
        if type(target) is not str:
            raise EvalError(f"no {name}() for {type_name(target)}")
        return fn(target)

    return method


_TO_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_TO_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DOUBLE = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|infinity|nan)", re.IGNORECASE)

# name -> (function, number of arguments, result type)
GLOBAL_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, str]] = {
    "size": (size, 1, "int"),
    "int": (_to_int, 1, "int"),
    "uint": (_to_int, 1, "int"),
    "double": (_to_double, 1, "double"),
    "string": (_to_string, 1, "string"),
}

# name -> (function taking the target first, number of further arguments, result type)
METHODS: dict[str, tuple[Callable[..., Any], int, str]] = {
    "size": (size, 0, "int"),
    "contains": (_string_method("contains", lambda s, a: a in s), 1, "bool"),
    "startsWith": (_string_method("startsWith", str.startswith), 1, "bool"),
    "endsWith": (_string_method("endsWith", str.endswith), 1, "bool"),
    "lowerAscii": (_case("lowerAscii", lambda s: s.translate(_TO_LOWER)), 0, "string"),
    "upperAscii": (_case("upperAscii", lambda s: s.translate(_TO_UPPER)), 0, "string"),
}

MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
REFUSED = {"matches": "regular expressions are not supported in conditions"}
