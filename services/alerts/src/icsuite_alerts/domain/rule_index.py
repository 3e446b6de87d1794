"""The rules of one trigger type indexed by their guards: per event only the rules whose guard may pass.

Each rule's condition carries its guard (``expressions/guards.py``): atoms such as ``event.method == "x"``,
``facts.dunning_level >= 2`` or ``"vip" in facts.flags``, with the promise that a condition whose atoms are all
``false`` is ``false`` without any rule error. The index answers, for an event and its facts, the rules with
no guard and those with an atom that is not ``false`` (``true``, or an error such as a missing field), in
their order: equal values by one dictionary lookup per tested field, orders against numbers by bisection of
the sorted bounds, membership by the field's list. Evaluating only those gives the same matches and the same
rule errors as evaluating every rule (``tests/unit/test_rule_index.py`` compares both on random rules).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .expressions.guards import Atom, equality_key
from .rules import CompiledRule

_MISSING = object()


class _Bounds:
    """The bounds of one order (``facts.x >= bound``) on one field, sorted, with the rule of each."""

    def __init__(self) -> None:
        self.pairs: list[tuple[Any, int]] = []
        self.bounds: list[Any] = []
        self.rules: list[int] = []

    def seal(self) -> None:
        self.pairs.sort(key=lambda pair: pair[0])
        self.bounds = [b for b, _ in self.pairs]
        self.rules = [r for _, r in self.pairs]

    def passing(self, kind: str, value: Any) -> Sequence[int]:
        """The rules whose ``value <kind> bound`` is true (Python's order of ints and floats is CEL's)."""
        if kind == "gt":
            return self.rules[:bisect.bisect_left(self.bounds, value)]
        if kind == "ge":
            return self.rules[:bisect.bisect_right(self.bounds, value)]
        if kind == "lt":
            return self.rules[bisect.bisect_right(self.bounds, value):]
        return self.rules[bisect.bisect_left(self.bounds, value):]  # le


class GuardIndex:
    def __init__(self, rules: Sequence[CompiledRule]):
        self.rules = list(rules)
        self.unguarded: list[int] = []
        self.equal: dict[tuple[str, str], dict[tuple[Any, ...], list[int]]] = {}
        self.member: dict[tuple[str, str], dict[tuple[Any, ...], list[int]]] = {}
        self.orders: dict[tuple[str, str, str], _Bounds] = {}
        self.on_field: dict[tuple[str, str], set[int]] = {}  # the guarded rules that test each field
        for position, compiled in enumerate(self.rules):
            guard = compiled.condition.guard
            if guard is None:
                self.unguarded.append(position)
                continue
            for atom in guard:
                self._add(atom, position)
        for bounds in self.orders.values():
            bounds.seal()

    def _add(self, atom: Atom, position: int) -> None:
        field = (atom.root, atom.field)
        self.on_field.setdefault(field, set()).add(position)
        key = equality_key(atom.value)
        if atom.kind == "eq":
            self.equal.setdefault(field, {}).setdefault(key, []).append(position)  # type: ignore[arg-type]
        elif atom.kind == "in":
            self.member.setdefault(field, {}).setdefault(key, []).append(position)  # type: ignore[arg-type]
        else:
            self.orders.setdefault((*field, atom.kind), _Bounds()).pairs.append((atom.value, position))

    def candidates(self, event: Mapping[str, Any], facts: Mapping[str, Any]) -> list[CompiledRule]:
        """The rules that may match ``event`` with ``facts``, in their order."""
        if not self.on_field:
            return self.rules
        roots = {"event": event, "facts": facts}
        picked = set(self.unguarded)
        for field, table in self.equal.items():
            value = roots[field[0]].get(field[1], _MISSING)
            if value is _MISSING:
                picked |= self.on_field[field]  # no such field: the test fails with an error, not false
                continue
            key = equality_key(value)  # None: NaN, a list or a map, which equal no constant of a guard
            if key is not None:
                picked.update(table.get(key, ()))
        for field, table in self.member.items():
            value = roots[field[0]].get(field[1], _MISSING)
            if type(value) is not list:  # absent, a map or no container: not plainly false
                picked.update(position for positions in table.values() for position in positions)
                continue
            for item in value:
                key = equality_key(item)
                if key is not None:
                    picked.update(table.get(key, ()))
        for (root, name, kind), bounds in self.orders.items():
            value = roots[root].get(name, _MISSING)
            if type(value) is not int and type(value) is not float:
                picked.update(bounds.rules)  # absent or not a number: an error, not false
            elif not math.isnan(value):  # NaN is in no order: every test is false
                picked.update(bounds.passing(kind, value))
        if len(picked) == len(self.rules):
            return self.rules
        return [self.rules[i] for i in sorted(picked)]
