"""Function calls, methods and the comprehension macros (``has``, ``all``, ``exists``, ``map``...)."""

from __future__ import annotations

from typing import Any

import lark

from . import ops
from .budget import METER, SIZE, STEPS, over_size, over_steps, spend
from .errors import EVAL_ERRORS
from .functions import GLOBAL_FUNCTIONS, MACROS, METHODS, REFUSED
from .nodes import Activation, Node, fold

MAX_COMPREHENSION_DEPTH = 1


class CallCompiler:
    def __init__(self, compiler: Any):
        self.c = compiler

    def _args(self, tree: lark.Tree, index: int) -> list[lark.Tree]:
        return list(tree.children[index].children) if len(tree.children) > index else []

    def function(self, tree: lark.Tree) -> Node:
        name = str(tree.children[0])
        args = self._args(tree, 1)
        if name == "has":
            return self._has(tree, args)
        if name in REFUSED:
            raise self.c.error(REFUSED[name], tree, "unsupported")
        if name not in GLOBAL_FUNCTIONS:
            raise self.c.error(f"unknown function '{name}'", tree, "unknown_function")
        fn, arity, result = GLOBAL_FUNCTIONS[name]
        if len(args) != arity:
            raise self.c.error(f"{name}() takes {arity} argument(s)", tree, "type_error")
        operand = self.c.compile(args[0])
        of = operand.fn
        amp = operand.amp if result == "string" else 1.0
        return fold(Node(lambda env: fn(of(env)), result, amp=amp), operand, position=self.c.position(tree))

    def method(self, tree: lark.Tree) -> Node:
        target_tree, name_token = tree.children[0], tree.children[1]
        name = str(name_token)
        args = self._args(tree, 2)
        if name in MACROS:
            return self._comprehension(tree, name, target_tree, args)
        if name in REFUSED:
            raise self.c.error(REFUSED[name], name_token, "unsupported")
        if name not in METHODS:
            raise self.c.error(f"unknown function '{name}'", name_token, "unknown_function")
        fn, arity, result = METHODS[name]
        if len(args) != arity:
            raise self.c.error(f"{name}() takes {arity} argument(s)", name_token, "type_error")
        target = self.c.compile(target_tree)
        operands = [target] + [self.c.compile(a) for a in args]
        fns = tuple(o.fn for o in operands)
        # lowerAscii/upperAscii copy their target, contains/startsWith/endsWith scan it: counted inside a
        # comprehension, where they run once per element (outside, once: bounded by the inputs' size)
        counted = bool(self.c.variables) and name != "size"
        if arity == 0:
            tf = fns[0]
            plain = lambda env: fn(tf(env))  # noqa: E731
            metered = lambda env: fn(_scanned(env, tf(env)))  # noqa: E731
        else:
            tf, af = fns
            plain = lambda env: fn(tf(env), af(env))  # noqa: E731
            metered = _scanning(fn, tf, af)
        node = Node(self.c.meter(metered, plain) if counted else plain, result,
                    amp=target.amp if result == "string" else 1.0)
        return fold(node, *operands, position=self.c.position(tree))

    def _has(self, tree: lark.Tree, args: list[lark.Tree]) -> Node:
        selection = _unwrap(args[0]) if len(args) == 1 else None
        if selection is None or selection.data != "member_dot":
            raise self.c.error("has() takes one field selection such as has(event.account_id)", tree, "type_error")
        target_tree, name = selection.children
        field = str(name)
        self.c.check_field(target_tree, field, name)
        target = self.c.compile(target_tree).fn

        def has(env: Activation) -> bool:  # CEL on maps: is the key there (whatever its value, null too)
            obj = target(env)
            if type(obj) is not dict:
                raise ops.EvalError(f"has() needs a map, not {ops.type_name(obj)}")
            return field in obj

        return Node(has, "bool")

    def _comprehension(self, tree: lark.Tree, name: str, target_tree: lark.Tree, args: list[lark.Tree]) -> Node:
        variable = _unwrap(args[0]) if len(args) == 2 else None
        if variable is None or variable.data != "ident":
            raise self.c.error(f"{name}() takes a variable name and an expression", tree, "type_error")
        var = str(variable.children[0])
        if var in self.c.symbols.roots or var in self.c.variables:
            raise self.c.error(f"the variable '{var}' hides another name", variable, "type_error")
        if self.c.variables and len(self.c.variables) >= MAX_COMPREHENSION_DEPTH:
            raise self.c.error("comprehensions may not be nested", tree, "too_deep")
        target = self.c.compile(target_tree)
        if target.type not in ("list", "map", "dyn"):
            raise self.c.error(f"{name}() needs a list or a map, not {target.type}", tree, "type_error")
        self.c.variables[var] = Node(_no_value, "dyn", amp=target.amp)  # an element is at most its list
        first = self.c.nodes
        try:
            body = self.c.compile(args[1])
        finally:
            del self.c.variables[var]
        if name != "map":
            self.c.require_bool(body, args[1], f"the expression of {name}()")
        amp = max(target.amp, body.amp) if name == "map" else target.amp
        self.c.check_amplification(amp, tree)
        build = _COMPREHENSIONS[name]
        fn = self.c.meter(build(target.fn, var, body.fn, self.c.nodes - first), build(target.fn, var, body.fn, 0))
        return Node(fn, "list" if name in ("map", "filter") else "bool", amp=amp)


def _unwrap(tree: Any) -> Any:
    while isinstance(tree, lark.Tree) and len(tree.children) == 1 and isinstance(tree.children[0], lark.Tree):
        tree = tree.children[0]
    return tree if isinstance(tree, lark.Tree) else None


def _no_value(env: Activation) -> Any:
    raise AssertionError("a comprehension variable is read from the activation")


def _scanned(env: Activation, value: Any) -> Any:
    if type(value) is str:
        spend(env, len(value))
    return value


def _scanning(fn: Any, tf: Any, af: Any) -> Any:
    def scan(env: Activation) -> Any:
        target = tf(env)
        if type(target) is str:
            meter = env[METER]
            meter[SIZE] -= len(target)
            if meter[SIZE] < 0:
                raise over_size()
        return fn(target, af(env))

    return scan


def _items(value: Any) -> Any:
    if type(value) is list:
        return value
    if type(value) is dict:
        return list(value)
    raise ops.EvalError(f"cannot iterate over {ops.type_name(value)}")


def _quantifier(expected: bool):  # type: ignore[no-untyped-def]
    def build(target: Any, var: str, body: Any, weight: int) -> Any:
        def quantify(env: Activation) -> bool:
            # the same error absorption as && and || in compiler.py, inlined on purpose: a shared helper
            # taking thunks measured 1.40M -> 0.80M conditions/s
            failure: BaseException | None = None
            items = _items(target(env))
            meter = env[METER] if weight and items else None  # an empty list takes no step
            for item in items:
                if meter is not None:
                    meter[STEPS] -= weight
                    if meter[STEPS] < 0:
                        raise over_steps()
                try:
                    value = body({**env, var: item})
                except EVAL_ERRORS as exc:
                    failure = exc
                    continue
                if value is expected:
                    return expected
                if value is not (not expected):
                    failure = ops.EvalError("the predicate is not a bool")
            if failure is not None:
                raise failure
            return not expected

        return quantify

    return build


def _exists_one(target: Any, var: str, body: Any, weight: int) -> Any:
    def exists_one(env: Activation) -> bool:
        items = _items(target(env))
        count, meter = 0, env[METER] if weight and items else None
        for item in items:
            if meter is not None:  # spend() inlined, as in quantify
                meter[STEPS] -= weight
                if meter[STEPS] < 0:
                    raise over_steps()
            value = body({**env, var: item})
            if type(value) is not bool:
                raise ops.EvalError("the predicate is not a bool")
            count += value
        return count == 1

    return exists_one


def _map(target: Any, var: str, body: Any, weight: int) -> Any:
    def map_(env: Activation) -> list[Any]:
        items = _items(target(env))
        if weight and items:  # an empty list costs nothing
            meter = env[METER]
            meter[STEPS] -= weight * len(items)
            meter[SIZE] -= len(items)
            if meter[STEPS] < 0 or meter[SIZE] < 0:
                raise over_steps() if meter[STEPS] < 0 else over_size()
        return [body({**env, var: item}) for item in items]

    return map_


def _filter(target: Any, var: str, body: Any, weight: int) -> Any:
    def filter_(env: Activation) -> list[Any]:
        items = _items(target(env))
        if not items:  # nothing to iterate, nothing built: the meter stays as it is
            return []
        kept, meter = [], env[METER] if weight else None
        for item in items:
            if meter is not None:  # spend() inlined: the budget's hot path (bench/alerts_budget.py)
                meter[STEPS] -= weight
                if meter[STEPS] < 0:
                    raise over_steps()
            value = body({**env, var: item})
            if type(value) is not bool:
                raise ops.EvalError("the predicate is not a bool")
            if value:
                kept.append(item)
        if meter is not None and kept:
            meter[SIZE] -= len(kept)
            if meter[SIZE] < 0:
                raise over_size()
        return kept

    return filter_


_COMPREHENSIONS = {"all": _quantifier(False), "exists": _quantifier(True), "exists_one": _exists_one,
                   "map": _map, "filter": _filter}
