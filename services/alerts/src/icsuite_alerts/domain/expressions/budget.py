"""The evaluation budget: what one evaluation of a condition may build and do, and its compile-time check.

At compile time every node carries an *amplification*: at most how many times the size of the largest
input (a field of the event or the facts, or a literal) the value it builds can be. ``a + b`` adds its
operands', ``[a, b]`` and ``{k: v}`` sum theirs, ``list.map(x, x + x)`` doubles its list's, and a chain of
such steps multiplies: an expression that could build more than ``MAX_AMPLIFICATION`` times its input
(``.map(x, x + x)`` chained 11 times) is refused when the rule is saved.

At run time a meter travels in the activation (under a key no condition can name) and counts the
characters and list elements built or scanned by ``+``, ``in`` over a list, the string methods and the
results of ``map``/``filter`` (``size``), and the steps of comprehensions, each iteration weighted by the
number of nodes of its body (``steps``). Going over either limit raises :class:`BudgetExceeded`, which is not
an evaluation error: ``&&``/``||`` do not absorb it and the rule fails visibly instead of not matching.
"""

from __future__ import annotations

from typing import Any

MAX_SIZE = 1_000_000
"""Characters and list elements one evaluation may build or scan."""
MAX_STEPS = 1_000_000
"""Comprehension steps one evaluation may take (one per node of the body per element)."""
MAX_AMPLIFICATION = 1024
"""How many times the size of its largest input an expression may build, by the compile-time estimate."""
METER = "\x00meter"


class BudgetExceeded(Exception):  # noqa: N818 - the name says what happened
    """One evaluation went over the budget: a rule error, never a quiet non-match."""


SIZE, STEPS = 0, 1
"""A meter is a list ``[size left, steps left]`` (list items: the cheapest counters to update inline)."""


def fresh() -> list[int]:
    return [MAX_SIZE, MAX_STEPS]


def over_size() -> BudgetExceeded:
    return BudgetExceeded(f"the condition built or scanned more than {MAX_SIZE:,} characters or list elements in "
                          "one evaluation")


def over_steps() -> BudgetExceeded:
    return BudgetExceeded(f"the condition took more than {MAX_STEPS:,} comprehension steps in one evaluation")


def spend(env: Any, count: int, kind: int = SIZE) -> None:
    """Count ``count`` against the evaluation's meter (where speed matters, callers inline this)."""
    meter = env[METER]
    meter[kind] -= count
    if meter[kind] < 0:
        raise over_size() if kind == SIZE else over_steps()
