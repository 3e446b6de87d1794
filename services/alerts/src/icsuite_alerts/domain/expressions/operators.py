"""Compiling CEL's operators: relations, arithmetic and unary minus/not, with their static type checks and the
budget's metering of what they build or scan (``+`` of strings or lists everywhere; inside comprehensions,
where they run once per element, also ``in`` over a list and ``==`` of lists or maps)."""

from __future__ import annotations

import operator
from typing import Any

import lark

from . import ops
from .budget import METER, SIZE, over_size, spend
from .nodes import NUMBER_TYPES, Activation, Node, arithmetic_type, fold, numeric_against_constant

RELATIONS = {"relation_lt": ops.less, "relation_le": ops.less_equal, "relation_gt": ops.greater,
             "relation_ge": ops.greater_equal, "relation_eq": ops.equals,
             "relation_ne": lambda a, b: not ops.equals(a, b), "relation_in": ops.contained_in}
_FAST_NUMERIC = {"relation_lt": operator.lt, "relation_le": operator.le, "relation_gt": operator.gt,
                 "relation_ge": operator.ge}
ARITHMETIC = {"addition_add": ops.add, "addition_sub": ops.subtract, "multiplication_mul": ops.multiply,
              "multiplication_div": ops.divide, "multiplication_mod": ops.modulo}
_SYMBOLS = {"addition_add": "+", "addition_sub": "-", "multiplication_mul": "*", "multiplication_div": "/",
            "multiplication_mod": "%"}
_SCANNED = frozenset({"list", "map", "dyn"})


class OperatorCompiler:
    def __init__(self, compiler: Any):
        self.c = compiler

    def relation(self, op_tree: lark.Tree, left: Node, right: Node, right_tree: Any) -> Node:
        name = op_tree.data
        self.check_relation(name, left, right, right_tree)
        fast = _FAST_NUMERIC.get(name)
        fn, lf, rf = RELATIONS[name], left.fn, right.fn
        if fast is not None and right.is_const and right.type in NUMBER_TYPES:
            node = Node(numeric_against_constant(lf, fast, right.const), "bool")
        else:
            plain = lambda env: fn(lf(env), rf(env))  # noqa: E731
            if not self.c.variables:  # runs once per evaluation: bounded by the inputs' size
                node = Node(plain, "bool")
            elif name == "relation_in" and right.type in _SCANNED:  # once per element: counted
                node = Node(self.c.meter(lambda env: _scan_in(env, lf(env), rf(env)), plain), "bool")
            elif name in ("relation_eq", "relation_ne") and _SCANNED & {left.type, right.type} \
                    and not (left.is_const or right.is_const):  # against a constant: at most its length
                node = Node(self.c.meter(lambda env: fn(*_scan_both(env, lf(env), rf(env))), plain), "bool")
            else:
                node = Node(plain, "bool")
        return fold(node, left, right, position=self.c.position(op_tree))

    def check_relation(self, name: str, left: Node, right: Node, at: Any) -> None:
        lt, rt = left.type, right.type
        if name == "relation_in":
            if rt not in ("list", "map", "dyn"):
                raise self.c.error(f"'in' needs a list or a map on its right, not {rt}", at, "type_error")
            return
        if "dyn" in (lt, rt) or (lt in NUMBER_TYPES and rt in NUMBER_TYPES):
            return
        if name in ("relation_eq", "relation_ne"):
            if lt != rt and "null" not in (lt, rt):
                raise self.c.error(f"cannot compare {lt} with {rt}", at, "type_error")
        elif lt != rt or lt not in ("string", "bool"):
            raise self.c.error(f"cannot order {lt} and {rt}", at, "type_error")

    def arithmetic(self, op_tree: lark.Tree, left: Node, right: Node, right_tree: Any) -> Node:
        name = op_tree.data
        fn, lf, rf = ARITHMETIC[name], left.fn, right.fn
        result = arithmetic_type(name, left.type, right.type)
        if result is None:
            raise self.c.error(f"no operator {_SYMBOLS[name]} for {left.type} and {right.type}", right_tree,
                               "type_error")
        if name == "addition_add" and result in ("string", "list", "dyn"):
            amp = left.amp + right.amp
            self.c.check_amplification(amp, op_tree)
            node = Node(self.c.meter(_concatenation(lf, rf), lambda env: fn(lf(env), rf(env))), result, amp=amp)
        else:
            node = Node(lambda env: fn(lf(env), rf(env)), result)
        return fold(node, left, right, position=self.c.position(op_tree))

    def unary(self, tree: lark.Tree) -> Node:
        op_tree, operand_tree = tree.children
        operand = self.c.compile(operand_tree)
        of = operand.fn
        if op_tree.data == "unary_not":
            self.c.require_bool(operand, operand_tree, "the operand of !")
            return fold(Node(lambda env: ops.logical_not(of(env)), "bool"), operand, position=self.c.position(tree))
        if operand.type not in NUMBER_TYPES and operand.type != "dyn":
            raise self.c.error(f"no operator - for {operand.type}", tree, "type_error")
        return fold(Node(lambda env: ops.negate(of(env)), operand.type), operand, position=self.c.position(tree))


def _concatenation(lf: Any, rf: Any) -> Any:
    def concatenate(env: Activation) -> Any:  # ops.add inlined with the meter: the budget's hot path
        a, b = lf(env), rf(env)
        kind = type(a)
        if type(b) is kind:
            if kind is str or kind is list:
                meter = env[METER]
                meter[SIZE] -= len(a) + len(b)  # counted before it is built
                if meter[SIZE] < 0:
                    raise over_size()
                return a + b
            if kind is int:
                return ops.check_int(a + b)
            if kind is float:
                return a + b
        return ops.add(a, b)  # no overload: raises

    return concatenate


def _scan_in(env: Activation, item: Any, container: Any) -> bool:
    if type(container) is list:
        spend(env, len(container))
    return ops.contained_in(item, container)


def _scan_both(env: Activation, a: Any, b: Any) -> tuple[Any, Any]:
    if type(a) in (list, dict) and type(b) is type(a):
        spend(env, len(a))
    return a, b
