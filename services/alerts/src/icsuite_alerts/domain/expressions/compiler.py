"""Compile a CEL condition: parse with cel-python, check names and types, build a tree of closures.

Nothing is ever passed to ``eval``/``exec``: every node becomes a small Python closure over the
activation (``{"event": {...}, "facts": {...}}``), which is what makes evaluation fast.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import lark
from celpy.celparser import CELParseError, CELParser

from . import ops
from .calls import CallCompiler
from .errors import EVAL_ERRORS, CompileError, Position, position_at
from .limits import check_limits
from .literals import literal_node
from .nodes import NUMBER_TYPES, Activation, Node, Symbols, arithmetic_type, constant, fold, numeric_against_constant

_PASS_THROUGH = frozenset({"expr", "conditionalor", "conditionaland", "relation", "addition",
                           "multiplication", "unary", "member", "primary"})
_RELATIONS = {"relation_lt": ops.less, "relation_le": ops.less_equal, "relation_gt": ops.greater,
              "relation_ge": ops.greater_equal, "relation_eq": ops.equals,
              "relation_ne": lambda a, b: not ops.equals(a, b), "relation_in": ops.contained_in}
_FAST_NUMERIC = {"relation_lt": operator.lt, "relation_le": operator.le, "relation_gt": operator.gt,
                 "relation_ge": operator.ge}
_ARITHMETIC = {"addition_add": ops.add, "addition_sub": ops.subtract, "multiplication_mul": ops.multiply,
               "multiplication_div": ops.divide, "multiplication_mod": ops.modulo}


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    fn: Any
    result_type: str

    def evaluate(self, activation: Activation) -> Any:
        return self.fn(activation)

    def matches(self, activation: Activation) -> bool:
        """True only when the condition evaluates to true; an evaluation error does not match."""
        try:
            return self.fn(activation) is True
        except EVAL_ERRORS:
            return False


def compile_expression(text: str, symbols: Symbols) -> CompiledExpression:
    check_limits(text)
    try:
        tree = CELParser().parse(text)
    except CELParseError as exc:
        where = _line_column(text, exc.line or 1, exc.column or 1)
        found = text[where.offset:where.offset + 12].split("\n")[0] or "the end of the expression"
        raise CompileError(f"syntax error at line {where.line}, column {where.column}: unexpected {found!r}",
                           where, kind="syntax") from None
    compiler = _Compiler(text, symbols)
    node = compiler.compile(tree)
    if node.type not in ("bool", "dyn"):
        raise CompileError(f"the condition must be a boolean expression, not {node.type}",
                           position_at(text, 0), kind="type_error")
    return CompiledExpression(text, node.fn, node.type)


def _line_column(text: str, line: int, column: int) -> Position:
    lines = text.split("\n")
    offset = sum(len(item) + 1 for item in lines[: line - 1]) + column - 1
    return Position(offset=offset, line=line, column=column)


class _Compiler:
    def __init__(self, text: str, symbols: Symbols):
        self.text = text
        self.symbols = symbols
        self.variables: dict[str, str] = {}
        self.calls = CallCompiler(self)

    def position(self, at: Any) -> Position:
        offset = getattr(at, "start_pos", None)
        if offset is None:
            offset = getattr(getattr(at, "meta", None), "start_pos", 0) or 0
        return position_at(self.text, offset)

    def error(self, message: str, at: Any, kind: str = "invalid_expression") -> CompileError:
        return CompileError(message, self.position(at), kind=kind)

    def compile(self, tree: lark.Tree) -> Node:
        while tree.data in _PASS_THROUGH and len(tree.children) == 1 and isinstance(tree.children[0], lark.Tree):
            tree = tree.children[0]
        handler = getattr(self, f"_{tree.data}", None)
        if handler is None:
            raise self.error(f"'{_describe(tree.data)}' is not supported in conditions", tree, "unsupported")
        return handler(tree)

    # ---- logic -------------------------------------------------------------------------------
    def _expr(self, tree: lark.Tree) -> Node:
        cond, then, otherwise = (self.compile(c) for c in tree.children)
        self.require_bool(cond, tree.children[0], "the condition of ?:")

        def ternary(env: Activation) -> Any:
            test = cond.fn(env)
            if test is True:
                return then.fn(env)
            if test is False:
                return otherwise.fn(env)
            raise ops.EvalError("the condition of ?: is not a bool")

        result_type = then.type if then.type == otherwise.type else "dyn"
        return fold(Node(ternary, result_type), cond, then, otherwise, position=self.position(tree))

    def _conditionalor(self, tree: lark.Tree) -> Node:
        return self._logic(tree, "conditionalor", absorbing=True)

    def _conditionaland(self, tree: lark.Tree) -> Node:
        return self._logic(tree, "conditionaland", absorbing=False)

    def _logic(self, tree: lark.Tree, data: str, *, absorbing: bool) -> Node:
        subtrees = []
        while tree.data == data and len(tree.children) == 2:
            subtrees.append(tree.children[1])
            tree = tree.children[0]
        subtrees.append(tree)
        operands = [self.compile(t) for t in reversed(subtrees)]
        for operand, subtree in zip(operands, reversed(subtrees)):
            self.require_bool(operand, subtree, "an operand of && and ||")
        fns = tuple(o.fn for o in operands)

        def logic(env: Activation) -> bool:
            # CEL's commutative && / ||; all/exists in calls.py repeat it inlined, for speed (see there)
            failure: BaseException | None = None
            for fn in fns:
                try:
                    value = fn(env)
                except EVAL_ERRORS as exc:
                    failure = exc
                    continue
                if value is absorbing:
                    return absorbing
                if value is not (not absorbing):
                    failure = ops.EvalError("an operand of && or || is not a bool")
            if failure is not None:
                raise failure
            return not absorbing

        return fold(Node(logic, "bool"), *operands, position=self.position(tree))

    def require_bool(self, node: Node, at: Any, what: str) -> None:
        if node.type not in ("bool", "dyn"):
            raise self.error(f"{what} must be a bool, not {node.type}", at, "type_error")

    # ---- relations and arithmetic ----------------------------------------------------------------
    def _relation(self, tree: lark.Tree) -> Node:
        return self._binary_chain(tree, "relation", self._relation_node)

    def _addition(self, tree: lark.Tree) -> Node:
        return self._binary_chain(tree, "addition", self._arithmetic_node)

    def _multiplication(self, tree: lark.Tree) -> Node:
        return self._binary_chain(tree, "multiplication", self._arithmetic_node)

    def _binary_chain(self, tree: lark.Tree, data: str, build: Any) -> Node:
        steps = []
        while tree.data == data and len(tree.children) == 2:
            op_tree, right = tree.children
            steps.append((op_tree, right))
            tree = op_tree.children[0]
        node = self.compile(tree)
        for op_tree, right in reversed(steps):
            node = build(op_tree, node, self.compile(right), right)
        return node

    def _relation_node(self, op_tree: lark.Tree, left: Node, right: Node, right_tree: Any) -> Node:
        name = op_tree.data
        self.check_relation(name, left, right, right_tree)
        fast = _FAST_NUMERIC.get(name)
        if fast is not None and right.is_const and right.type in NUMBER_TYPES:
            node = Node(numeric_against_constant(left.fn, fast, right.const), "bool")
        else:
            fn, lf, rf = _RELATIONS[name], left.fn, right.fn
            node = Node(lambda env: fn(lf(env), rf(env)), "bool")
        return fold(node, left, right, position=self.position(op_tree))

    def check_relation(self, name: str, left: Node, right: Node, at: Any) -> None:
        lt, rt = left.type, right.type
        if name == "relation_in":
            if rt not in ("list", "map", "dyn"):
                raise self.error(f"'in' needs a list or a map on its right, not {rt}", at, "type_error")
            return
        if "dyn" in (lt, rt) or (lt in NUMBER_TYPES and rt in NUMBER_TYPES):
            return
        if name in ("relation_eq", "relation_ne"):
            if lt != rt and "null" not in (lt, rt):
                raise self.error(f"cannot compare {lt} with {rt}", at, "type_error")
        elif lt != rt or lt not in ("string", "bool"):
            raise self.error(f"cannot order {lt} and {rt}", at, "type_error")

    def _arithmetic_node(self, op_tree: lark.Tree, left: Node, right: Node, right_tree: Any) -> Node:
        fn, lf, rf = _ARITHMETIC[op_tree.data], left.fn, right.fn
        result = arithmetic_type(op_tree.data, left.type, right.type)
        if result is None:
            symbol = {"addition_add": "+", "addition_sub": "-", "multiplication_mul": "*",
                      "multiplication_div": "/", "multiplication_mod": "%"}[op_tree.data]
            raise self.error(f"no operator {symbol} for {left.type} and {right.type}", right_tree, "type_error")
        return fold(Node(lambda env: fn(lf(env), rf(env)), result), left, right, position=self.position(op_tree))

    def _unary(self, tree: lark.Tree) -> Node:
        op_tree, operand_tree = tree.children
        operand = self.compile(operand_tree)
        of = operand.fn
        if op_tree.data == "unary_not":
            self.require_bool(operand, operand_tree, "the operand of !")
            return fold(Node(lambda env: ops.logical_not(of(env)), "bool"), operand, position=self.position(tree))
        if operand.type not in NUMBER_TYPES and operand.type != "dyn":
            raise self.error(f"no operator - for {operand.type}", tree, "type_error")
        return fold(Node(lambda env: ops.negate(of(env)), operand.type), operand, position=self.position(tree))

    # ---- members, names, literals ----------------------------------------------------------------
    def _member_dot(self, tree: lark.Tree) -> Node:
        target_tree, name = tree.children
        target = self.compile(target_tree)
        field = str(name)
        result_type = self.check_field(target_tree, field, name)
        tf = target.fn
        return Node(lambda env: tf(env)[field], result_type)

    def check_field(self, target_tree: Any, field: str, at: Any) -> str:
        """The static type of ``<target>.<field>``; refuses unknown facts and unknown event fields."""
        root = _root_name(target_tree)
        if root == "facts" and "facts" not in self.variables:
            if field not in self.symbols.fact_types:
                known = ", ".join(sorted(self.symbols.fact_types))
                raise self.error(f"unknown fact '{field}'; the facts are: {known}", at, "unknown_fact")
            return self.symbols.fact_types[field]
        if root == "event" and "event" not in self.variables:
            allowed = self.symbols.event_fields
            if allowed is not None and field not in allowed:
                raise self.error(f"unknown event field '{field}' for the rule's trigger types", at,
                                 "unknown_field")
        return "dyn"

    def _member_index(self, tree: lark.Tree) -> Node:
        target, key = (self.compile(c) for c in tree.children)
        if target.type not in ("list", "map", "dyn"):
            raise self.error(f"cannot index {target.type}", tree, "type_error")
        tf, kf = target.fn, key.fn
        return fold(Node(lambda env: ops.index(tf(env), kf(env))), target, key, position=self.position(tree))

    def _member_dot_arg(self, tree: lark.Tree) -> Node:
        return self.calls.method(tree)

    def _ident_arg(self, tree: lark.Tree) -> Node:
        return self.calls.function(tree)

    def _ident(self, tree: lark.Tree) -> Node:
        name = str(tree.children[0])
        if name in self.variables:
            return Node(lambda env: env[name], self.variables[name])
        if name in self.symbols.roots:
            return Node(lambda env: env[name], "map")
        raise self.error(f"unknown name '{name}'; use event.<field> or facts.<name>", tree, "unknown_name")

    def _paren_expr(self, tree: lark.Tree) -> Node:
        return self.compile(tree.children[0])

    def _literal(self, tree: lark.Tree) -> Node:
        return literal_node(tree.children[0], self)

    def _list_lit(self, tree: lark.Tree) -> Node:
        items = [self.compile(c) for c in tree.children[0].children] if tree.children else []
        fns = tuple(i.fn for i in items)
        return fold(Node(lambda env: [f(env) for f in fns], "list"), *items, position=self.position(tree)) \
            if items else constant([], "list")

    def _map_lit(self, tree: lark.Tree) -> Node:
        parts = [self.compile(c) for c in tree.children[0].children] if tree.children else []
        pairs = tuple((parts[i].fn, parts[i + 1].fn) for i in range(0, len(parts), 2))
        node = Node(lambda env: {k(env): v(env) for k, v in pairs}, "map")
        return fold(node, *parts, position=self.position(tree)) if parts else constant({}, "map")


def _root_name(tree: Any) -> str | None:
    while isinstance(tree, lark.Tree) and len(tree.children) == 1 and isinstance(tree.children[0], lark.Tree):
        tree = tree.children[0]
    if isinstance(tree, lark.Tree) and tree.data == "ident":
        return str(tree.children[0])
    return None


def _describe(data: str) -> str:
    return {"member_object": "message construction", "dot_ident": "a leading-dot name",
            "dot_ident_arg": "a leading-dot function"}.get(data, data)
