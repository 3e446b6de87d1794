"""Errors of the condition language: refused at compile time (with a position) or raised while evaluating."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    offset: int
    line: int
    column: int

    def as_dict(self) -> dict[str, int]:
        return {"offset": self.offset, "line": self.line, "column": self.column}


def position_at(text: str, offset: int) -> Position:
    """The 1-based line and column of ``offset`` in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return Position(offset=offset, line=line, column=offset - start + 1)


class CompileError(Exception):
    """An expression that is refused: a syntax error, an unknown name, a type mismatch or a limit."""

    def __init__(self, message: str, position: Position | None = None, *, kind: str = "invalid_expression"):
        super().__init__(message)
        self.message = message
        self.position = position
        self.kind = kind


class EvalError(Exception):
    """An expression could not be evaluated for this input (a missing field, a type mismatch, overflow)."""


EVAL_ERRORS: tuple[type[BaseException], ...] = (
    EvalError, TypeError, KeyError, IndexError, ValueError, ZeroDivisionError, OverflowError, RecursionError,
)
"""What a failed evaluation may raise; a condition that fails to evaluate does not match."""
