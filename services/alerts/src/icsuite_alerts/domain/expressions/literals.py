"""Literals of the condition language: numbers, strings, booleans, null (bytes are refused)."""

from __future__ import annotations

import re
from typing import Any

from .errors import CompileError
from .nodes import Node, constant
from .ops import INT_MAX, INT_MIN

_ESCAPE = re.compile(r"\\(?:([abfnrtv\"'\\`?])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-3][0-7]{2}))")
_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
           '"': '"', "'": "'", "\\": "\\", "`": "`", "?": "?"}


def literal_node(token: Any, compiler: Any) -> Node:
    kind, text = token.type, str(token)
    if kind == "BOOL_LIT":
        return constant(text == "true", "bool")
    if kind == "NULL_LIT":
        return constant(None, "null")
    if kind in ("INT_LIT", "UINT_LIT"):
        return constant(_integer(text.rstrip("uU"), token, compiler), "int")
    if kind == "FLOAT_LIT":
        return constant(float(text), "double")
    if kind in ("STRING_LIT", "MLSTRING_LIT"):
        return constant(_string(text, token, compiler), "string")
    raise compiler.error("bytes literals are not supported in conditions", token, "unsupported")


def _integer(text: str, token: Any, compiler: Any) -> int:
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    value = int(digits, 16) if digits.lower().startswith("0x") else int(digits, 10)
    value = -value if negative else value
    if not INT_MIN <= value <= INT_MAX:
        raise compiler.error("the integer literal is out of the 64-bit range", token, "literal_too_large")
    return value


def _string(text: str, token: Any, compiler: Any) -> str:
    raw = text[0] in "rR"
    body = text[1:] if raw else text
    quote = body[:3] if body[:3] in ('"""', "'''") else body[0]
    body = body[len(quote):-len(quote)]
    if raw:
        return body
    try:
        return _ESCAPE.sub(_unescape, body)
    except ValueError:
        raise CompileError("invalid escape in a string literal", compiler.position(token), kind="syntax") from None


def _unescape(match: re.Match[str]) -> str:
    simple, hex2, hex4, hex8, octal = match.groups()
    if simple is not None:
        return _SIMPLE[simple]
    code = int(hex2 or hex4 or hex8, 16) if (hex2 or hex4 or hex8) else int(octal, 8)
    return chr(code)
