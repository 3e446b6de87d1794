"""CEL semantics: this service's evaluator against cel-python's own interpreter on the corpus of
``cel_corpus.txt``. Every expression answers the same (the same value of the same type, or an error in both),
except the known differences below; each is listed with its reason (and in the README), and the test fails
if one of them stops differing, so the list stays true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import celpy
import pytest
from celpy import celtypes

from icsuite_alerts.domain.expressions import EVAL_ERRORS, CompileError, Symbols, compile_value

pytestmark = [pytest.mark.unit]

CORPUS = [line for line in (Path(__file__).parent / "cel_corpus.txt").read_text("utf-8").splitlines()
          if line.strip() and not line.startswith("#")]
EVENT = {
    "account_id": "acc-1", "channel": "phone", "n": None, "count": 3, "ratio": 0.5, "neg": -7,
    "big": 9223372036854775807, "small": -9223372036854775808, "empty": "", "text": "Héllo World",
    "flags": ["vip", "new"], "nums": [1, 2, 3], "mixed": [1, "a", None, 2.5, True],
    "bills": [{"amount": 5, "open": False}, {"amount": 600, "open": True, "due": "2026-01-01"}],
    "attrs": {"lang": "de", "k": None, "nested": {"deep": 1}}, "ok": True, "no": False,
}
FACTS = {"dunning_level": 3, "balance": 612.5, "flags": ["vip"], "last_interaction_outcome": None,
         "credit_status": "good", "overdue_bills": 0, "overdue_amount": 0.0}

NEWER_SPEC = "CEL's heterogeneous equality: numbers compare across int and double, values of different types " \
             "are unequal (not an error); cel-python 0.5 implements the earlier rule, which is an error"
CELPY_LENIENT = "CEL has no such overload (an error); cel-python lets a Python behaviour through"
TYPE_CHECKED = "refused when the rule is saved, as CEL's type checker does: an operand of the wrong type, " \
               "has() without a field selection, a constant that always fails (even where || / && would absorb it)"
EXTENSION = "lowerAscii/upperAscii are CEL's strings extension (ASCII letters only); cel-python lacks them"
REFUSED = "refused on purpose: regular expressions (unbounded time) and nested comprehensions (the budget)"

KNOWN_DIFFERENCES: dict[str, list[str]] = {
    NEWER_SPEC: ["1 == 1.0", "1 < 1.5", "[1] == [1.0]", "null == 0", "2.0 in event.nums", "1 in {'a': 1}",
                 "{1: 2}[1.0]", "event.mixed.filter(x, x == null)"],
    CELPY_LENIENT: ["event.bills[-1]", "[1, 2][-1]", "event.nums[true]", "has(event.count.x)", "has(event.n.x)",
                    "has(event.flags.x)", "has(event.missing.x)", "'a' in 'abc'", "1.0 + 1", "true + 1",
                    "5 % 2.0", "'abc'[0]", "{null: 1}", "size(null)", "event.n.size()", "int(' 7')", "int(true)",
                    "int(null)", "string(true)", "string(null)", "null && true", "1 && true", "true && 1"],
    TYPE_CHECKED: ["has(event)", "null || true", "1 / 0 == 1 || true", "true || 1 / 0 == 1",
                   "1 / 0 == 1 && false", "true || 'a'", "false && 'a'", "'a' || true"],
    EXTENSION: ["'ABC'.lowerAscii()", "'abc'.upperAscii()", "'Héllo'.upperAscii()", "'ÀB'.lowerAscii()",
                "'aBc'.lowerAscii() == 'abc'"],
    REFUSED: ["'abc'.matches('a.*')", "event.nums.map(x, event.nums.exists(y, y == x))"],
}
DIFFERING = {text: reason for reason, texts in KNOWN_DIFFERENCES.items() for text in texts}

SYMBOLS = Symbols(event_fields=None, fact_types={name: "dyn" for name in FACTS})
ERROR = ("error",)
_CEL = celpy.Environment()


def plain(value: Any) -> Any:
    """A value with its CEL type spelled out, so that 1, 1.0 and true never compare equal."""
    if value is None or isinstance(value, celtypes.NullType):
        return ("null",)
    if isinstance(value, bool | celtypes.BoolType):
        return ("bool", bool(value))
    if isinstance(value, int | celtypes.IntType | celtypes.UintType):
        return ("int", int(value))
    if isinstance(value, float | celtypes.DoubleType):
        return ("double", repr(float(value)))  # repr: NaN equals NaN, -0.0 differs from 0.0
    if isinstance(value, str | celtypes.StringType):
        return ("string", str(value))
    if isinstance(value, list | celtypes.ListType):
        return ("list", tuple(plain(item) for item in value))
    if isinstance(value, dict | celtypes.MapType):
        return ("map", tuple(sorted((repr(plain(k)), plain(v)) for k, v in value.items())))
    return ("unexpected", repr(value))


def by_this_service(text: str) -> Any:
    try:
        compiled = compile_value(text, SYMBOLS)
    except CompileError:
        return ERROR
    try:
        return plain(compiled.evaluate({"event": EVENT, "facts": FACTS}))
    except EVAL_ERRORS:
        return ERROR


def by_cel_python(text: str) -> Any:
    try:
        program = _CEL.program(_CEL.compile(text))
        value = program.evaluate({"event": celpy.json_to_cel(EVENT), "facts": celpy.json_to_cel(FACTS)})
    except Exception:  # noqa: BLE001 - cel-python raises its own parse and evaluation errors
        return ERROR
    return ERROR if isinstance(value, celpy.CELEvalError) else plain(value)


def test_the_corpus_is_large_and_every_known_difference_is_in_it() -> None:
    assert len(set(CORPUS)) == len(CORPUS) >= 200
    assert set(DIFFERING) <= set(CORPUS)


@pytest.mark.parametrize("text", sorted(set(CORPUS)))
def test_the_evaluator_answers_as_cel_python_or_the_difference_is_known(text: str) -> None:
    ours, theirs = by_this_service(text), by_cel_python(text)
    if text in DIFFERING:
        assert ours != theirs, f"{text!r} no longer differs ({DIFFERING[text]}): take it off the list"
    else:
        assert ours == theirs, f"{text!r}: this service {ours}, cel-python {theirs}"
