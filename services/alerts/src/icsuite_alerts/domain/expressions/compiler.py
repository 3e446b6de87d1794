"""Compile a CEL condition: parse with cel-python, check names and types, build a tree of closures.

Nothing is ever passed to ``eval``/``exec``: every node becomes a small Python closure over the
activation (``{"event": {...}, "facts": {...}}``), which is what makes evaluation fast.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import lark
from celpy.celparser import CELParseError, CELParser

from . import ops
from .budget import MAX_AMPLIFICATION, MAX_SIZE, MAX_STEPS, METER
from .calls import CallCompiler
from .errors import EVAL_ERRORS, CompileError, Position, position_at
from .guards import Guard, extract_guard
from .limits import check_limits
from .literals import literal_node
from .nodes import Activation, Fn, Node, Symbols, constant, fold
from .operators import OperatorCompiler

_PASS_THROUGH = frozenset({"expr", "conditionalor", "conditionaland", "relation", "addition",
                           "multiplication", "unary", "member", "primary"})


@dataclass(frozen=True)
class CompiledExpression:
    source: str
    fn: Any
    result_type: str
    metered: bool = False  # it builds or iterates: each evaluation gets a fresh budget
    guard: Guard | None = None  # cheap tests it cannot hold without (guards.py); only for conditions

    def evaluate(self, activation: dict[str, Any]) -> Any:
        """The value; an evaluation error or :class:`BudgetExceeded` is raised. A metered expression puts a
        fresh meter into ``activation`` (under a key no condition can name)."""
        if self.metered:
            activation[METER] = [MAX_SIZE, MAX_STEPS]
        return self.fn(activation)

    def matches(self, activation: dict[str, Any]) -> bool:
        """True only when the condition evaluates to true; an evaluation error does not match.

        :class:`BudgetExceeded` and ``MemoryError`` are raised: the rule failed, which its caller reports.
        """
        if self.metered:
            activation[METER] = [MAX_SIZE, MAX_STEPS]
        try:
            return self.fn(activation) is True
        except EVAL_ERRORS:
            return False


def compile_expression(text: str, symbols: Symbols, *, budget: bool = True) -> CompiledExpression:
    """Compile a condition: an expression whose value must be a bool. ``budget=False`` leaves the budget
    out (no compile-time check, no meter): only for the benchmark's comparison."""
    compiled, tree = _compile(text, symbols, budget)
    if compiled.result_type not in ("bool", "dyn"):
        raise CompileError(f"the condition must be a boolean expression, not {compiled.result_type}",
                           position_at(text, 0), kind="type_error")
    return replace(compiled, guard=extract_guard(tree, lambda part: _Compiler(text, symbols, budget).alone(part)))


def compile_value(text: str, symbols: Symbols, *, budget: bool = True) -> CompiledExpression:
    """Compile an expression of any type (the conformance test compares its values with cel-python's)."""
    return _compile(text, symbols, budget)[0]


def _compile(text: str, symbols: Symbols, budget: bool) -> tuple[CompiledExpression, lark.Tree]:
    check_limits(text)
    try:
        tree = CELParser().parse(text)
    except CELParseError as exc:
        where = _line_column(text, exc.line or 1, exc.column or 1)
        found = text[where.offset:where.offset + 12].split("\n")[0] or "the end of the expression"
        raise CompileError(f"syntax error at line {where.line}, column {where.column}: unexpected {found!r}",
                           where, kind="syntax") from None
    compiler = _Compiler(text, symbols, budget)
    node = compiler.compile(tree)
    return CompiledExpression(text, node.fn, node.type, compiler.metered), tree


def _line_column(text: str, line: int, column: int) -> Position:
    lines = text.split("\n")
    offset = sum(len(item) + 1 for item in lines[: line - 1]) + column - 1
    return Position(offset=offset, line=line, column=column)


class _Compiler:
    def __init__(self, text: str, symbols: Symbols, budget: bool = True):
        self.text = text
        self.symbols = symbols
        self.budget = budget
        self.variables: dict[str, Node] = {}  # comprehension variables: their type and amplification
        self.calls = CallCompiler(self)
        self.operators = OperatorCompiler(self)
        self.nodes = 0  # nodes compiled so far (a comprehension's step weighs its body's nodes)
        self.metered = False

    def alone(self, tree: lark.Tree) -> tuple[Node, bool]:
        """A part of the expression compiled on its own, and whether it is metered (``guards.py``)."""
        return self.compile(tree), self.metered

    def meter(self, fn: Fn, unmetered: Fn) -> Fn:
        """``fn``, which uses the activation's meter (so each evaluation gets one), or without the budget
        ``unmetered``, the same closure without it."""
        if not self.budget:
            return unmetered
        self.metered = True
        return fn

    def check_amplification(self, amp: float, at: Any) -> None:
        if self.budget and amp > MAX_AMPLIFICATION:
            raise self.error(f"this expression could build about {amp:,.0f} times the size of its input (at "
                             f"most {MAX_AMPLIFICATION:,} times): values that double at each of a chain of "
                             "steps grow exponentially", at, "too_costly")

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
        self.nodes += 1
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
        return fold(Node(ternary, result_type, amp=max(then.amp, otherwise.amp)), cond, then, otherwise,
                    position=self.position(tree))

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
        return self._binary_chain(tree, "relation", self.operators.relation)

    def _addition(self, tree: lark.Tree) -> Node:
        return self._binary_chain(tree, "addition", self.operators.arithmetic)

    def _multiplication(self, tree: lark.Tree) -> Node:
        return self._binary_chain(tree, "multiplication", self.operators.arithmetic)

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

    def _unary(self, tree: lark.Tree) -> Node:
        return self.operators.unary(tree)

    # ---- members, names, literals ----------------------------------------------------------------
    def _member_dot(self, tree: lark.Tree) -> Node:
        target_tree, name = tree.children
        target = self.compile(target_tree)
        field = str(name)
        result_type = self.check_field(target_tree, field, name)
        tf = target.fn
        return Node(lambda env: tf(env)[field], result_type, amp=target.amp)

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
        return fold(Node(lambda env: ops.index(tf(env), kf(env)), amp=target.amp), target, key,
                    position=self.position(tree))

    def _member_dot_arg(self, tree: lark.Tree) -> Node:
        return self.calls.method(tree)

    def _ident_arg(self, tree: lark.Tree) -> Node:
        return self.calls.function(tree)

    def _ident(self, tree: lark.Tree) -> Node:
        name = str(tree.children[0])
        if name in self.variables:
            variable = self.variables[name]
            return Node(lambda env: env[name], variable.type, amp=variable.amp)
        if name in self.symbols.roots:
            return Node(lambda env: env[name], "map")
        raise self.error(f"unknown name '{name}'; use event.<field> or facts.<name>", tree, "unknown_name")

    def _paren_expr(self, tree: lark.Tree) -> Node:
        return self.compile(tree.children[0])

    def _literal(self, tree: lark.Tree) -> Node:
        return literal_node(tree.children[0], self)

    def _list_lit(self, tree: lark.Tree) -> Node:
        items = [self.compile(c) for c in tree.children[0].children] if tree.children else []
        if not items:
            return constant([], "list")
        fns, amp = tuple(i.fn for i in items), sum(i.amp for i in items)
        self.check_amplification(amp, tree)
        return fold(Node(lambda env: [f(env) for f in fns], "list", amp=amp), *items, position=self.position(tree))

    def _map_lit(self, tree: lark.Tree) -> Node:
        parts = [self.compile(c) for c in tree.children[0].children] if tree.children else []
        pairs = tuple((parts[i].fn, parts[i + 1].fn) for i in range(0, len(parts), 2))
        if not parts:
            return constant({}, "map")
        amp = sum(p.amp for p in parts)
        self.check_amplification(amp, tree)
        node = Node(lambda env: ops.map_of([(k(env), v(env)) for k, v in pairs]), "map", amp=amp)
        return fold(node, *parts, position=self.position(tree))


def _root_name(tree: Any) -> str | None:
    while isinstance(tree, lark.Tree) and len(tree.children) == 1 and isinstance(tree.children[0], lark.Tree):
        tree = tree.children[0]
    if isinstance(tree, lark.Tree) and tree.data == "ident":
        return str(tree.children[0])
    return None


def _describe(data: str) -> str:
    return {"member_object": "message construction", "dot_ident": "a leading-dot name",
            "dot_ident_arg": "a leading-dot function"}.get(data, data)
