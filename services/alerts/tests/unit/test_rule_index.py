"""The rule index gives exactly the matches and rule errors of evaluating every rule: random conditions (tests
of event and facts fields against constants of every type, orders, membership, has(), methods, building and
iterating parts, over the budget, &&, ||, !, ?:, parentheses) against random events and facts (missing fields,
wrong types, NaN, lists, maps, strings long enough to go over the budget). And it follows rule changes made
by another replica."""

import random
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.identity_v1 import ContactIdentified

from icsuite_alerts.domain.evaluation import RuleBook, RuleFailure, evaluate
from icsuite_alerts.domain.expressions.budget import MAX_SIZE
from icsuite_alerts.domain.facts import empty_facts
from icsuite_alerts.domain.rules import Rule, RuleInvalid, RuleSpec, compile_rule

pytestmark = [pytest.mark.unit]
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TRIGGER = "ic.identity.contact-identified.v1"
EVENT_FIELDS = ("contact_id", "account_id", "method", "confirmed", "agent_id")
FACT_FIELDS = ("balance", "dunning_level", "flags", "open_callbacks", "contacts_last_7d", "last_interaction_outcome",
               "credit_status", "overdue_amount")
LITERALS = ("0", "1", "2", "-1", "1.0", "2.5", "0.0", "true", "false", "null", '"a"', '"b"', '"auto_number"',
            '"vip"', "(0.0 / 0.0)", "[1]", "{}")
NUMBERS = ("0", "1", "2", "-1", "1.0", "2.5", "-0.5", "100", "(0.0 / 0.0)")
HUGE = "x" * (MAX_SIZE // 2 + 1)  # twice it is over the budget


def field(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"event.{rng.choice(EVENT_FIELDS)}"
    return f"facts.{rng.choice(FACT_FIELDS)}"


def atom(rng: random.Random) -> str:
    f, lit, num = field(rng), rng.choice(LITERALS), rng.choice(NUMBERS)
    return rng.choice([
        f"{f} == {lit}", f"{lit} == {f}", f"{f} != {lit}", f"{f} {rng.choice(['<', '<=', '>', '>='])} {num}",
        f"{num} < {f}", f"{lit} in {f}", f"{f} in [{lit}, {rng.choice(LITERALS)}]", f"has({f})", f"{f}",
        f'{f}.startsWith("a")', f"size({f}) > 1", f"{f} * 2.0 > 3.0",
        f'{f} + {f} == "aa"',  # builds: over the budget for a long string
        f"[1, 2].exists(x, x == {f})", f"{f}.map(x, x).size() > 0",  # iterates
    ])


def condition(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth >= 3 or roll < 0.35:
        return atom(rng)
    if roll < 0.7:
        return " && ".join(condition(rng, depth + 1) for _ in range(rng.randint(2, 4)))
    if roll < 0.88:
        return " || ".join(f"({condition(rng, depth + 1)})" for _ in range(rng.randint(2, 3)))
    if roll < 0.94:
        return f"!({condition(rng, depth + 1)})"
    return f"({condition(rng, depth + 1)}) ? {condition(rng, depth + 1)} : {condition(rng, depth + 1)}"


def indexable(rng: random.Random) -> str:
    f = field(rng)
    return rng.choice([f"{f} == {rng.choice(LITERALS)}", f"{rng.choice(LITERALS)} == {f}",
                       f"{f} {rng.choice(['<', '<=', '>', '>='])} {rng.choice(NUMBERS)}", f"{rng.choice(LITERALS)} in {f}"])


def guarded(rng: random.Random) -> str:
    """A condition shaped as rules usually are: tests of fields first, then anything."""
    roll = rng.random()
    if roll < 0.5:
        return f"{indexable(rng)} && {condition(rng, 1)}"
    if roll < 0.75:
        return f"{atom(rng)} && {indexable(rng)} && {condition(rng, 2)}"
    return " || ".join(f"{indexable(rng)} && ({condition(rng, 2)})" for _ in range(rng.randint(2, 3)))


def random_rules(rng: random.Random, count: int) -> list[Rule]:
    rules: list[Rule] = []
    while len(rules) < count:
        text = guarded(rng) if rng.random() < 0.6 else condition(rng)
        spec = RuleSpec(f"r{len(rules)}", (TRIGGER,), text, "info", "m", "agent", 0)
        rule = Rule(f"rule-{len(rules):04d}", 1, spec)
        try:
            compile_rule(rule)
        except RuleInvalid:
            continue  # a type error the compiler refuses when saved
        rules.append(rule)
    return rules


TYPED = {"contact_id": "ab", "account_id": "acc-1", "method": "auto_number", "confirmed": True, "agent_id": "a",
         "balance": 101.5, "dunning_level": 2, "flags": ["vip"], "open_callbacks": 1, "contacts_last_7d": 0,
         "last_interaction_outcome": "a", "credit_status": None, "overdue_amount": 0.5}


def value(rng: random.Random, name: str) -> Any:
    if rng.random() < 0.5:  # as the contracts and the facts have it
        return TYPED[name] if rng.random() < 0.5 else type(TYPED[name])()
    return rng.choice([0, 1, 2, -1, 1.0, 2.5, 0.5, 100, 101.5, float("nan"), float("inf"), True, False, None, "a",
                       "b", "aa", "auto_number", "vip", "abc", [], [1], ["vip", 1.0], [True, "a", [1]], {"a": 1},
                       {1: "x"}])


def random_input(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    event = {name: value(rng, name) for name in EVENT_FIELDS if rng.random() < 0.9}
    if rng.random() < 0.05:
        event["contact_id"] = HUGE
    facts = empty_facts() if rng.random() < 0.3 else {name: value(rng, name) for name in FACT_FIELDS
                                                        if rng.random() < 0.95}
    return event, facts


def outcome(rules: Any, event: dict[str, Any], facts: dict[str, Any]) -> tuple[list[Any], list[RuleFailure]]:
    failures: list[RuleFailure] = []
    matches = evaluate(rules, event=event, facts=facts, event_id="e-1", event_type=TRIGGER, time=T0,
                       account_id="acc-1", contact_id="ct-1", agent_id="a-1", failures=failures)
    return [(m.rule.rule_id, m.message) for m in matches], failures


@pytest.mark.parametrize("seed", range(4))
def test_the_index_gives_the_matches_and_rule_errors_of_evaluating_every_rule(seed: int) -> None:
    rng = random.Random(seed)
    book = RuleBook(random_rules(rng, 300))
    every = book.rules_for(TRIGGER)
    evaluated = matched = failed = 0
    for _ in range(150):
        event, facts = random_input(rng)
        candidates = book.candidates(TRIGGER, event, facts)
        found, failures = outcome(every, event, facts)
        assert outcome(candidates, event, facts) == (found, failures), (event, facts)
        assert [c.rule.rule_id for c in candidates] == sorted(c.rule.rule_id for c in candidates)  # in order
        evaluated, matched, failed = evaluated + len(candidates), matched + len(found), failed + len(failures)
    assert matched and failed  # the comparison covered matches and rule errors
    assert evaluated < 0.9 * 150 * len(every)  # and the index left rules out


def bench_like_rules() -> list[Rule]:
    conditions = ['event.agent_id == "a-1"', "facts.dunning_level >= 2", 'event.method == "agent_search" && '
                  "facts.overdue_followups > 0", '"debt" in facts.flags || facts.dunning_level > 3 && event.confirmed',
                  'event.account_id.startsWith("acc-3") && facts.balance > 100.0',
                  'has(event.agent_id) && facts.last_interaction_outcome == "unresolved"',
                  "facts.balance * 2.0 > 3000.0 && facts.contacts_last_30d > 1"]
    return [Rule(f"rule-{i}", 1, RuleSpec(f"r{i}", (TRIGGER,), c, "info", "m", "agent", 0))
            for i, c in enumerate(conditions)]


def test_only_the_rules_whose_guards_pass_are_evaluated() -> None:
    book = RuleBook(bench_like_rules())
    event = {"agent_id": "a-1", "account_id": "acc-1", "method": "auto_number", "confirmed": True}
    assert [c.rule.rule_id for c in book.candidates(TRIGGER, event, empty_facts())] == ["rule-0"]
    facts = {**empty_facts(), "dunning_level": 4, "balance": 150.0}
    assert [c.rule.rule_id for c in book.candidates(TRIGGER, {**event, "agent_id": "a-2"}, facts)] == \
        ["rule-1", "rule-3", "rule-4"]
    del event["method"]  # a missing field is an error, not false: the rule is evaluated
    assert "rule-2" in [c.rule.rule_id for c in book.candidates(TRIGGER, event, empty_facts())]


def identified(contact: str, agent: str) -> Any:
    data = ContactIdentified(contact_id=contact, account_id="acc-1", method="auto_number", confirmed=False,
                             agent_id=agent)
    return new_envelope(data, source="/test", time=T0, correlation_id=contact)


async def test_a_replica_indexes_the_rules_another_replica_created_changed_and_disabled(make_service) -> None:
    one = make_service(lambda: T0)
    two = make_service(lambda: T0, twin_of=one)
    await one.cache.refresh(force=True)
    await two.cache.refresh(force=True)
    spec = RuleSpec("for a-1", (TRIGGER,), 'event.agent_id == "a-1"', "info", "for {event.agent_id}", "agent", 0)
    rule_id = (await one.create_rule(spec, by="admin-1")).rule.rule_id

    async def raised_on_two(contact: str, agent: str) -> list[str]:
        await two.cache.refresh()  # the rules-refresh job's round: the revision moved
        before = set(two.alerts.documents)
        await two.on_event(identified(contact, agent))
        return [two.alerts.documents[i]["agent_id"] for i in set(two.alerts.documents) - before]

    assert await raised_on_two("ct-1", "a-1") == ["a-1"]
    assert await raised_on_two("ct-2", "a-2") == []
    await one.replace_rule(rule_id, replace(spec, condition='event.agent_id == "a-2"'), by="admin-1")
    assert await raised_on_two("ct-3", "a-1") == []
    assert await raised_on_two("ct-4", "a-2") == ["a-2"]
    await one.replace_rule(rule_id, replace(spec, condition='event.agent_id == "a-2"', enabled=False), by="admin-1")
    assert await raised_on_two("ct-5", "a-2") == []
    await one.replace_rule(rule_id, replace(spec, condition='event.agent_id == "a-2"', enabled=True), by="admin-1")
    assert await raised_on_two("ct-6", "a-2") == ["a-2"]
    await one.delete_rule(rule_id, by="admin-1")
    assert await raised_on_two("ct-7", "a-2") == []
