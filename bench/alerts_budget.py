"""Alerts: rule evaluations per second with the evaluation budget on, against the same evaluator compiled
without it, in the same run: both sides take the same events in alternating chunks, rates are per second
of this process's CPU time, and the median of the rounds is reported with the spread.

    uv run python bench/alerts_budget.py [--rules 1000] [--events 500] [--rounds 5]

Two rule sets: the benchmark's usual mix of 1,000 conditions (``alerts_eval.CONDITIONS``: comparisons,
``in``, ``startsWith``; no ``+`` on strings, no comprehension, so they carry no meter) and a mix where every
condition builds or iterates (``+`` of strings, ``exists``/``all``/``map`` over lists), which pays for the
meter. Target: with the budget, at least 0.8 of the evaluations per second without it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from alerts_eval import CONDITIONS, TRIGGER, sample_inputs  # noqa: E402

from icsuite_alerts.domain.expressions import Symbols, compile_expression  # noqa: E402
from icsuite_alerts.domain.facts import FACT_TYPES  # noqa: E402
from icsuite_alerts.domain.rules import event_fields  # noqa: E402

BUILDING = [
    '(event.method + ":" + event.account_id).endsWith("{n}")',
    'facts.flags.exists(f, f == "vip") || facts.dunning_level > {n}',
    'facts.flags.map(f, f + "!").size() > {n}',
    "[event.account_id, event.contact_id].all(s, s.size() > {n})",
    'facts.flags.filter(f, f.startsWith("d")).size() >= 1 && facts.balance > {n}00.0',
]


def matchers(templates: list[str], count: int, *, budget: bool) -> list:  # type: ignore[type-arg]
    symbols = Symbols(event_fields((TRIGGER,)), FACT_TYPES)
    return [compile_expression(templates[i % len(templates)].format(n=i % 9 + 1), symbols, budget=budget).matches
            for i in range(count)]


def seconds(conditions: list, activations: list[dict]) -> float:  # type: ignore[type-arg]
    started = time.process_time()  # this process's CPU time: other processes' load shows less
    for activation in activations:
        for matches in conditions:
            matches(activation)
    return time.process_time() - started


def compare(templates: list[str], rules: int, inputs: list[tuple[dict, dict]], rounds: int) -> dict:
    """Both sides over the same events, interleaved in chunks of 25 events (the order alternating), so that
    a busy machine slows both alike; per round: each side's rate and the ratio of the two."""
    sides = {"on": matchers(templates, rules, budget=True), "off": matchers(templates, rules, budget=False)}
    activations = [{"event": event, "facts": facts} for event, facts in inputs]
    chunks = [activations[i:i + 25] for i in range(0, len(activations), 25)]
    rates: dict[str, list[float]] = {"on": [], "off": []}
    ratios = []
    for r in range(rounds):
        spent = {"on": 0.0, "off": 0.0}
        for k, chunk in enumerate(chunks):
            for side in (("on", "off") if (k + r) % 2 == 0 else ("off", "on")):
                spent[side] += seconds(sides[side], chunk)
        for side in spent:
            rates[side].append(len(activations) * rules / spent[side])
        ratios.append(spent["off"] / spent["on"])
    return {"rules": rules, "rounds": rounds,
            "budget_on_per_s": round(statistics.median(rates["on"])),
            "budget_off_per_s": round(statistics.median(rates["off"])),
            "spread_on_per_s": [round(min(rates["on"])), round(max(rates["on"]))],
            "spread_off_per_s": [round(min(rates["off"])), round(max(rates["off"]))],
            "ratio_on_vs_off": round(statistics.median(ratios), 3),
            "ratio_spread": [round(min(ratios), 3), round(max(ratios), 3)]}


def budget_comparison(rules: int = 1000, events: int = 500, rounds: int = 5) -> dict:
    inputs = sample_inputs(events)
    return {"usual_mix": compare(CONDITIONS, rules, inputs, rounds),
            "building_mix": compare(BUILDING, rules, inputs, rounds), "target_ratio": 0.8}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = budget_comparison(args.rules, args.events, args.rounds)
    print(json.dumps(result, indent=2))
    for name in ("usual_mix", "building_mix"):
        r = result[name]
        print(f"{name}: {r['budget_on_per_s']:,}/s with the budget, {r['budget_off_per_s']:,}/s without "
              f"(ratio {r['ratio_on_vs_off']}, target >= 0.8)")


if __name__ == "__main__":
    main()
