"""Compiled nodes: a closure over the activation plus its static type and, if known, its constant value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .budget import METER, BudgetExceeded, fresh
from .errors import EVAL_ERRORS, CompileError, EvalError, Position
from .ops import type_name

Activation = Mapping[str, Any]
Fn = Callable[[Activation], Any]
NOT_CONSTANT: Any = object()

NUMBER_TYPES = frozenset({"int", "double"})
KNOWN_TYPES = frozenset({"bool", "int", "double", "string", "list", "map", "null"})


@dataclass(frozen=True)
class Node:
    fn: Fn
    type: str = "dyn"
    const: Any = NOT_CONSTANT
    amp: float = 1.0  # at most how many times its largest input the value can be (budget.py)

    @property
    def is_const(self) -> bool:
        return self.const is not NOT_CONSTANT


def constant(value: Any, type_: str) -> Node:
    return Node(lambda env: value, type_, value)


def fold(node: Node, *operands: Node, position: Position | None = None) -> Node:
    """Evaluate ``node`` now if all its operands are constants (``1/0`` is refused at compile time)."""
    if not operands or not all(o.is_const for o in operands):
        return node
    try:
        value = node.fn({METER: fresh()})
    except EVAL_ERRORS as exc:
        raise CompileError(f"this expression always fails: {exc}", position, kind="type_error") from None
    except BudgetExceeded as exc:
        raise CompileError(str(exc), position, kind="too_costly") from None
    return Node(lambda env: value, node.type, value, node.amp)


@dataclass(frozen=True)
class Symbols:
    """What a condition may name: the fields of ``event`` (None: any) and the facts with their types."""

    event_fields: frozenset[str] | None
    fact_types: Mapping[str, str]
    roots: tuple[str, ...] = ("event", "facts")


def numeric_against_constant(left: Any, compare: Any, bound: Any) -> Any:
    def relation(env: Activation) -> bool:
        value = left(env)
        if type(value) is int or type(value) is float:
            return compare(value, bound)
        raise EvalError(f"no ordering between {type_name(value)} and a number")

    return relation


def arithmetic_type(op: str, left: str, right: str) -> str | None:
    if "dyn" in (left, right):
        return "dyn"
    if left in NUMBER_TYPES and left == right:  # no mixed int/double arithmetic in CEL
        return None if op == "multiplication_mod" and left != "int" else left
    if op == "addition_add" and left == right and left in ("string", "list"):
        return left
    return None
