"""Bounds checked before an expression reaches the parser, so a hostile expression costs little time."""

from __future__ import annotations

from .errors import CompileError, position_at

MAX_EXPRESSION_LENGTH = 2000
MAX_NESTING = 32
MAX_LITERAL_LENGTH = 512
MAX_NUMBER_DIGITS = 24

_OPENERS = "([{"
_CLOSERS = ")]}"


def check_limits(text: str) -> None:
    """Refuse expressions that are too long, nested too deeply or carry huge literals."""
    if not text.strip():
        raise CompileError("the expression is empty", position_at(text, 0), kind="empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise CompileError(f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters",
                           position_at(text, MAX_EXPRESSION_LENGTH), kind="too_long")
    _scan(text)


def _scan(text: str) -> None:
    depth = 0
    unary_run = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            i = _skip_string(text, i)
            unary_run = 0
            continue
        if ch.isdigit():
            i = _skip_number(text, i)
            unary_run = 0
            continue
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
        if ch in "!-":
            unary_run += 1
        elif not ch.isspace():
            unary_run = 0
        if depth + unary_run > MAX_NESTING:
            raise CompileError(f"the expression is nested more than {MAX_NESTING} levels deep",
                               position_at(text, i), kind="too_deep")
        i += 1


def _skip_string(text: str, start: int) -> int:
    quote = text[start]
    delimiter = quote * 3 if text.startswith(quote * 3, start) else quote
    i = start + len(delimiter)
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(delimiter, i):
            end = i + len(delimiter)
            if end - start - 2 * len(delimiter) > MAX_LITERAL_LENGTH:
                raise CompileError(f"a string literal is longer than {MAX_LITERAL_LENGTH} characters",
                                   position_at(text, start), kind="literal_too_large")
            return end
        i += 1
    raise CompileError("a string literal is not closed", position_at(text, start), kind="syntax")


def _skip_number(text: str, start: int) -> int:
    i = start
    while i < len(text) and (text[i].isalnum() or text[i] == "."):
        i += 1
    if i - start > MAX_NUMBER_DIGITS:
        raise CompileError(f"a number literal has more than {MAX_NUMBER_DIGITS} characters",
                           position_at(text, start), kind="literal_too_large")
    return i
