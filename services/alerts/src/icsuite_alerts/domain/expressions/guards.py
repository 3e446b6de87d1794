"""Guards: the cheap tests a condition cannot be true without, read from its parse tree at compile time.

A guard is a set of *atoms*, each a test of one field of the event or of the facts against a constant
(``event.method == "x"``, ``facts.dunning_level >= 2``, ``"vip" in facts.flags``). Its promise: when every
atom evaluates to exactly ``false``, the whole condition evaluates to ``false`` and nothing in it could have
gone over the evaluation budget, so skipping the rule gives the same result as evaluating it (no match, no
rule error). The rule index (``domain/rule_index.py``) uses it to evaluate only the rules whose guard may pass.

Why that holds, with the evaluator's own ``&&`` / ``||`` (``compiler._logic``): ``&&`` evaluates its operands
in order and answers ``false`` at the first operand that is ``false``; an operand that fails is passed over.
So if the operands before a guarded operand are *safe* (unmetered: they cannot go over the budget, their
errors are absorbed) and that operand is ``false``, the chain is ``false`` and nothing after it runs. ``||``
answers ``false`` only when every operand is ``false``: its guard is the union of its operands' guards, and
it has none if one of them has none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import lark

_PASS_THROUGH = frozenset({"expr", "conditionalor", "conditionaland", "relation", "addition",
                           "multiplication", "unary", "member", "primary"})
RANGES = {"relation_lt": "lt", "relation_le": "le", "relation_gt": "gt", "relation_ge": "ge"}
_KIND_COST = {"eq": 1, "in": 2, "lt": 3, "le": 3, "gt": 3, "ge": 3}


@dataclass(frozen=True)
class Atom:
    """``<root>.<field> <kind> <value>``: ``eq`` (CEL ``==``, either side), ``in`` (``value in <field>``) or an
    order against a number (``lt``, ``le``, ``gt``, ``ge``: the field on the left)."""

    root: str  # "event" or "facts"
    field: str
    kind: str
    value: Any


Guard = frozenset[Atom]


def equality_key(value: Any) -> tuple[Any, ...] | None:
    """A key equal for two values exactly when CEL's ``==`` (``ops.equals``) says they are equal, for
    scalars; ``None`` for any other value (a list, a map, NaN), which no key stands for."""
    kind = type(value)
    if kind is bool:
        return ("b", value)
    if kind is int or (kind is float and not math.isnan(value)):
        return ("n", value)  # 1 == 1.0 in CEL as in Python, and their hashes agree
    if kind is str:
        return ("s", value)
    if value is None:
        return ("z",)
    return None


def extract_guard(tree: lark.Tree, compile_alone: Any) -> Guard | None:
    """The guard of the condition ``tree``, or ``None`` if it has none. ``compile_alone(subtree)`` compiles a
    part of it on its own and answers ``(node, metered)``."""
    return _Extractor(compile_alone).guard(tree)


class _Extractor:
    def __init__(self, compile_alone: Any):
        self.compile_alone = compile_alone

    def guard(self, tree: Any) -> Guard | None:
        tree = _unwrap(tree)
        if tree.data == "conditionalor" and len(tree.children) == 2:
            union: set[Atom] = set()
            for operand in _chain(tree, "conditionalor"):
                part = self.guard(operand)
                if part is None:
                    return None
                union |= part
            return frozenset(union)
        if tree.data == "conditionaland" and len(tree.children) == 2:
            return self._leading(_chain(tree, "conditionaland"))
        atom = self._atom(tree)
        return frozenset({atom}) if atom is not None else None

    def _leading(self, operands: list[Any]) -> Guard | None:
        """The cheapest guard among the operands of ``&&`` that only safe operands precede."""
        best: Guard | None = None
        for operand in operands:
            part = self.guard(operand)
            if part is not None and (best is None or _cost(part) < _cost(best)):
                best = part
            if self.compile_alone(operand)[1]:  # metered: what follows it may not be reached safely
                break
        return best

    def _atom(self, tree: Any) -> Atom | None:
        if tree.data != "relation" or len(tree.children) != 2:
            return None
        op_tree, right = tree.children
        name = op_tree.data
        left = op_tree.children[0]
        if name == "relation_eq":
            return self._field_against(left, right, "eq") or self._field_against(right, left, "eq")
        if name == "relation_in":
            field = _field(right)
            value = self._constant(left)
            if field is None or value is _NONE or equality_key(value) is None:
                return None
            return Atom(field[0], field[1], "in", value)
        if name in RANGES:
            return self._field_against(left, right, RANGES[name])
        return None

    def _field_against(self, field_tree: Any, value_tree: Any, kind: str) -> Atom | None:
        field = _field(field_tree)
        if field is None:
            return None
        value = self._constant(value_tree, numeric=kind != "eq")
        if value is _NONE or equality_key(value) is None:
            return None
        return Atom(field[0], field[1], kind, value)

    def _constant(self, tree: Any, *, numeric: bool = False) -> Any:
        """The constant value of ``tree``; with ``numeric`` only an int or double one, which the evaluator
        compares by its numeric fast path (``nodes.numeric_against_constant``)."""
        node, _ = self.compile_alone(tree)
        if not node.is_const or (numeric and node.type not in ("int", "double")):
            return _NONE
        return node.const


_NONE = object()


def _cost(guard: Guard) -> int:
    return sum(_KIND_COST[a.kind] for a in guard)


def _unwrap(tree: Any) -> Any:
    while isinstance(tree, lark.Tree):
        if tree.data in _PASS_THROUGH and len(tree.children) == 1 and isinstance(tree.children[0], lark.Tree):
            tree = tree.children[0]
        elif tree.data == "paren_expr":
            tree = tree.children[0]
        else:
            break
    return tree


def _chain(tree: lark.Tree, data: str) -> list[Any]:
    """The operands of a left-nested ``&&`` or ``||`` chain, in evaluation order (as ``compiler._logic``)."""
    operands = []
    while tree.data == data and len(tree.children) == 2:
        operands.append(tree.children[1])
        tree = tree.children[0]
    operands.append(tree)
    return operands[::-1]


def _field(tree: Any) -> tuple[str, str] | None:
    """``("event", name)`` or ``("facts", name)`` for ``event.<name>`` / ``facts.<name>``, else ``None``."""
    tree = _unwrap(tree)
    if not isinstance(tree, lark.Tree) or tree.data != "member_dot":
        return None
    target, name = tree.children
    target = _unwrap(target)
    if isinstance(target, lark.Tree) and target.data == "ident" and str(target.children[0]) in ("event", "facts"):
        return str(target.children[0]), str(name)
    return None
