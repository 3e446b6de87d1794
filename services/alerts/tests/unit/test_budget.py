"""The evaluation budget: exponential conditions refused when saved, what one evaluation may build and do,
and a rule over its budget (or out of memory) reported as a rule error while the others go on."""

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.identity_v1 import ContactIdentified

from icsuite_alerts.domain.backtest import run_backtest
from icsuite_alerts.domain.evaluation import RuleFailure, evaluate
from icsuite_alerts.domain.expressions import BudgetExceeded, CompileError, Symbols, compile_expression
from icsuite_alerts.domain.expressions.budget import MAX_SIZE, MAX_STEPS
from icsuite_alerts.domain.expressions.compiler import CompiledExpression
from icsuite_alerts.domain.observations import observe
from icsuite_alerts.domain.rules import CompiledRule, Rule, RuleInvalid, RuleSpec, compile_rule
from icsuite_alerts.domain.templates import parse_template

pytestmark = [pytest.mark.unit]
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SYMBOLS = Symbols(event_fields=None, fact_types={"flags": "list"})
DOUBLING = ".map(x, x + x)"


def chain(start: str, step: str, times: int) -> str:
    return f"{start}{step * times}.size() > 0"


@pytest.mark.parametrize("text", [
    chain('["a"]', DOUBLING, 40),  # 2^40 times its input: the 2 TiB
    chain("event.flags", DOUBLING, 11),
    chain("[event.flags]", ".map(x, x + x + x)", 7),
    chain("[facts.flags]", ".map(l, [l, l])", 11),
    chain('["ab"]', ".map(s, s + s + s + s)[0].map(t, t)", 6),
])
def test_a_condition_that_could_grow_exponentially_is_refused_when_saved(text: str) -> None:
    with pytest.raises(CompileError) as refused:
        compile_expression(text, SYMBOLS)
    assert refused.value.kind == "too_costly" and "times the size of its input" in refused.value.message
    assert refused.value.position is not None


def test_linear_conditions_and_short_chains_compile() -> None:
    for text in (chain("event.flags", DOUBLING, 10), " + ".join(["event.note"] * 140) + ' != ""',
                 '[event.a, event.b, event.c].exists(s, s.startsWith("x"))'):
        compile_expression(text, SYMBOLS)


def test_going_over_the_size_budget_is_raised_and_not_absorbed_by_or() -> None:
    small, big = {"s": "x" * 1000}, {"s": "x" * (MAX_SIZE // 2 + 1)}
    condition = compile_expression('event.s + event.s != "" || true', SYMBOLS)
    assert condition.matches({"event": small, "facts": {}})
    with pytest.raises(BudgetExceeded, match="characters or list elements"):
        condition.matches({"event": big, "facts": {}})
    scan = compile_expression('event.items.filter(x, event.s.contains("y")).size() > 0', SYMBOLS)
    with pytest.raises(BudgetExceeded):
        scan.matches({"event": {"items": list(range(20)), "s": "x" * (MAX_SIZE // 10)}, "facts": {}})


def test_going_over_the_step_budget_is_raised() -> None:
    condition = compile_expression("event.items.all(x, x >= 0)", SYMBOLS)  # 3 nodes per step
    assert condition.matches({"event": {"items": list(range(MAX_STEPS // 4))}, "facts": {}})
    with pytest.raises(BudgetExceeded, match="comprehension steps"):
        condition.matches({"event": {"items": list(range(MAX_STEPS // 2))}, "facts": {}})


def rule_of(rule_id: str, condition: str) -> CompiledRule:
    spec = RuleSpec(rule_id, ("ic.identity.contact-identified.v1",), condition, "info", "m", "agent", 0)
    return compile_rule(Rule(rule_id, 3, spec))


def out_of_memory(env: object) -> bool:
    raise MemoryError


def test_a_rule_over_its_budget_or_out_of_memory_is_a_rule_error_and_the_others_still_match() -> None:
    greedy = rule_of("r-greedy", 'event.contact_id + event.contact_id != ""')
    hungry = CompiledRule(Rule("r-hungry", 1, greedy.rule.spec), CompiledExpression("true", out_of_memory, "bool"),
                          parse_template("m", fact_names=set(), event_fields=None))
    fine = rule_of("r-fine", "true")
    failures: list[RuleFailure] = []
    big = {"contact_id": "c" * MAX_SIZE}
    matches = evaluate([greedy, hungry, fine], event=big, facts={}, event_id="ev-1", event_type="t", time=T0,
                       account_id=None, contact_id="c", agent_id=None, failures=failures)
    assert [m.rule.rule_id for m in matches] == ["r-fine"]
    assert [(f.rule_id, f.rule_version, f.kind, f.event_id) for f in failures] == [
        ("r-greedy", 3, "budget", "ev-1"), ("r-hungry", 1, "memory", "ev-1")]


def test_a_rule_that_may_reach_the_budget_is_refused_with_its_field() -> None:
    spec = RuleSpec("grows", ("ic.identity.contact-identified.v1",), chain('["a"]', DOUBLING, 40), "info", "m",
                    "agent", 0)
    with pytest.raises(RuleInvalid) as refused:
        compile_rule(Rule("r-1", 1, spec))
    assert (refused.value.field, refused.value.kind) == ("condition", "too_costly")


def test_a_backtest_stops_at_its_deadline_with_what_it_found() -> None:
    events = [observe(event_id=f"e-{i}", ce_type="ic.identity.contact-identified.v1", time=T0 + timedelta(seconds=i),
                      data={"contact_id": f"c-{i}", "account_id": "acc-1"}) for i in range(500)]
    ticks = iter(range(10_000))
    result = run_backtest(rule_of("draft", "true"), events, start=T0, end=T0 + timedelta(hours=1), deadline=3,
                          clock=lambda: next(ticks))
    assert result.stopped == "time_limit" and 0 < result.events_replayed < 500
    assert result.triggers_evaluated == result.events_replayed
    complete = run_backtest(rule_of("draft", "true"), events, start=T0, end=T0 + timedelta(hours=1))
    assert complete.stopped is None and complete.events_replayed == 500


async def test_the_consumer_reports_a_rule_over_its_budget_and_raises_the_others(make_service) -> None:
    svc = make_service(lambda: T0)
    await svc.cache.refresh(force=True)
    doubling = '["' + "y" * 500 + '"]' + DOUBLING * 10 + "[0].size() > 0"  # allowed: 1,024 times; too big
    greedy = await svc.create_rule(RuleSpec("greedy", ("ic.identity.contact-identified.v1",), doubling, "info",
                                            "m", "agent", 0), by="admin-1")
    await svc.create_rule(RuleSpec("fine", ("ic.identity.contact-identified.v1",), "true", "info", "m", "agent", 0),
                          by="admin-1")
    data = ContactIdentified(contact_id="c-1", account_id="acc-1", method="auto_number", confirmed=False, agent_id="a-1")
    await svc.on_event(new_envelope(data, source="/test", time=T0, correlation_id="c-1"))
    assert [a["rule_id"] for a in svc.alerts.documents.values()] != [] and all(
        a["rule_id"] != greedy.rule.rule_id for a in svc.alerts.documents.values())
    health = svc.cache.failures[greedy.rule.rule_id]
    assert (health.kind, health.count, health.rule_version) == ("budget", 1, 1)
