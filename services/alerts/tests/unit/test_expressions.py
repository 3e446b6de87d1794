"""The condition language: CEL semantics, static checks, and hostile expressions refused quickly."""

import pytest

from icsuite_alerts.domain.expressions import CompileError, Symbols, compile_expression, compiler
from icsuite_alerts.domain.expressions.limits import MAX_EXPRESSION_LENGTH

pytestmark = [pytest.mark.unit]

SYMBOLS = Symbols(event_fields=frozenset({"channel", "bills", "account_id", "n", "ce_type"}),
                  fact_types={"dunning_level": "int", "balance": "double", "flags": "list",
                              "last_interaction_outcome": "dyn"})
ENV = {"event": {"channel": "phone", "bills": [{"amount": 5}, {"amount": 600}], "account_id": "acc-1", "n": None,
                 "ce_type": "ic.identity.contact-identified.v1"},
       "facts": {"dunning_level": 3, "balance": 612.5, "flags": ["vip"], "last_interaction_outcome": None}}


def matches(text: str, env: dict = ENV) -> bool:
    return compile_expression(text, SYMBOLS).matches(env)


@pytest.mark.parametrize("text", [
    "facts.dunning_level >= 2",
    'facts.balance > 500 && "vip" in facts.flags',
    "event.bills.exists(b, b.amount > 500) && event.bills.all(b, b.amount > 1)",
    "event.bills.exists_one(b, b.amount > 1) == false",
    "event.bills.filter(b, b.amount > 10).size() == 1",
    "event.bills.map(b, b.amount)[1] == 600",
    'has(event.n) && event.n == null && has(event.channel) && event.channel.startsWith("ph")',  # CEL: a key
    "size(event.bills) == 2 ? true : false",
    "7 / 2 == 3 && -7 / 2 == -3 && -7 % 3 == -1 && 7.0 / 2.0 == 3.5",
    "1 == 1.0 && true != false && null == null && [1, [2]] == [1, [2]]",
    '{"a": 1}["a"] == 1 && "a" in {"a": 1}',
    'string(3) + "x" == "3x" && int("12") == 12 && double(1) == 1.0',
    "facts.last_interaction_outcome == null",
    "'a\\n' + \"b\" == 'a\\nb' && r'\\n' == '\\\\n'",
    'event.ce_type.endsWith("contact-identified.v1")',
])
def test_conditions_that_hold(text: str) -> None:
    assert matches(text)


@pytest.mark.parametrize("text", [
    "facts.dunning_level > 3",
    "[true] == [1]",
    "event.bills[5].amount > 1",  # out of range: an error, so no match
    "event.account_id == 'acc-2'",
    "facts.dunning_level / (facts.dunning_level - 3) > 0",  # division by zero at run time
    "9223372036854775807 + facts.dunning_level > 0",  # overflow
    "facts.last_interaction_outcome.size() > 0",
])
def test_conditions_that_do_not_hold_or_fail_do_not_match(text: str) -> None:
    assert not matches(text)


def test_errors_are_absorbed_by_and_or_like_cel() -> None:
    assert matches("event.bills[9] == 1 || facts.dunning_level == 3")
    assert not matches("event.bills[9] == 1 && facts.dunning_level == 4")
    assert not matches("facts.dunning_level == 3 && event.bills[9] == 1")


@pytest.mark.parametrize("text, kind, column", [
    ("facts.dunnig_level > 2", "unknown_fact", 7),
    ("event.nope == 1", "unknown_field", 7),
    ("somebody == 1", "unknown_name", 1),
    ('facts.balance > "x"', "type_error", 17),
    ("facts.balance + 1.0", "type_error", 1),  # a double, not a bool
    ("facts.balance + 1 > 2.0", "type_error", 17),  # CEL has no mixed int/double arithmetic
    ('"a" * 3 == "aaa"', "type_error", 7),
    ("facts.dunning_level >= ", "syntax", 21),
    ("1 / 0 == 1", "type_error", 1),
    ("foo(1)", "unknown_function", 1),
    ("event.channel.matches('(a+)+$')", "unsupported", 15),
    ("[1].exists(x, [2].exists(y, x == y))", "too_deep", 15),
    ("99999999999999999999 > 1", "literal_too_large", 1),
    ('b"bytes" == b"bytes"', "unsupported", 1),
    ("   ", "empty", 1),
])
def test_refused_with_kind_and_position(text: str, kind: str, column: int) -> None:
    with pytest.raises(CompileError) as caught:
        compile_expression(text, SYMBOLS)
    assert caught.value.kind == kind, caught.value.message
    assert caught.value.position is not None and caught.value.position.column == column


@pytest.mark.parametrize(("text", "kind"), [
    ("(" * 10_000 + "1" + ")" * 10_000, "too_long"),
    ("(" * 40 + "true" + ")" * 40, "too_deep"),
    ("[" * 40 + "]" * 40 + " == []", "too_deep"),
    ("!" * 500 + "true", "too_deep"),
    ("-" * 500 + "1 > 0", "too_deep"),
    ('"' + "x" * 1999 + '"', "too_long"),
    ("1" * 1000 + " > 1", "literal_too_large"),
    (" && ".join(["facts.dunning_level > 1"] * 80), "too_long"),
])
def test_hostile_expressions_are_refused_within_bounded_time(text: str, kind: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Bounded work, not a stopwatch: each is refused by the one linear scan of the limits (at most
    MAX_EXPRESSION_LENGTH characters looked at), before the parser, whose cost grows with nesting, is reached."""
    def parser_reached(*_: object) -> None:
        raise AssertionError("the parser was reached")

    monkeypatch.setattr(compiler, "CELParser", parser_reached)
    with pytest.raises(CompileError) as caught:
        compile_expression(text, SYMBOLS)
    assert caught.value.kind == kind, caught.value.message
    assert caught.value.position is not None and caught.value.position.offset <= MAX_EXPRESSION_LENGTH


def test_the_limits_let_an_ordinary_expression_through_to_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """The counterpart of the above: the stand-in parser is what an expression inside the limits reaches."""
    def parser_reached(*_: object) -> None:
        raise AssertionError("the parser was reached")

    monkeypatch.setattr(compiler, "CELParser", parser_reached)
    with pytest.raises(AssertionError, match="parser was reached"):
        compile_expression("facts.dunning_level > 1", SYMBOLS)


def test_a_long_flat_chain_inside_the_limits_compiles_and_evaluates_without_recursion() -> None:
    text = " && ".join(["facts.dunning_level > 1"] * 70)
    assert len(text) < 2000
    assert compile_expression(text, SYMBOLS).matches(ENV)
    assert compile_expression(" + ".join(["1"] * 400) + " == 400", SYMBOLS).matches(ENV)


def test_a_compiled_condition_gives_the_same_answers_as_the_expression_many_times_over() -> None:
    """Evaluation speed is measured in bench/alerts_eval.py beside a hand-written baseline, never asserted here."""
    condition = compile_expression('facts.balance > 500.0 && "vip" in facts.flags', SYMBOLS)
    answers = {condition.matches(ENV) for _ in range(20_000)}
    assert answers == {bool(ENV["facts"]["balance"] > 500.0 and "vip" in ENV["facts"]["flags"])}