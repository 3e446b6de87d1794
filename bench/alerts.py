"""Alerts: rule evaluations per second, event on Kafka -> alert on the SSE stream beside a bare forwarder, and
how late absence alerts fire.

- **Evaluation** is :func:`bench.alerts_eval.pure_evaluation` (N enabled rules on one trigger, each event
  evaluated against all of them with its facts, no I/O). With the evaluation budget: the same rules compiled
  with and without it (``bench/alerts_budget.py``, when it exists; else "n/a").
- **Stream**: the alerts service as a separate process with the same N rules stored through its rules store
  before start (standard rules off; one rule matches every event of the bench agent), the agent's SSE stream
  held open; ``contact-identified`` events published at ``rate`` events/s; the time from just before each send
  to its alert's ``data:`` line. Beside it in the same run, ``repeats`` times interleaved, a bare consumer
  that only forwards each event to a stream (:mod:`bench.bare_stream`).
- **Absence**: a rule ``after: {within_s, unless}`` on another agent's events; each trigger's alert arrival
  minus (its send + ``within_s``): how late after its deadline the alert reached the stream.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from icsuite_alerts.domain.rule_records import decide_create
from icsuite_alerts.consumers import CONSUMER
from icsuite_alerts.domain.rules import CONSUMED_TOPICS, Absence, Rule, RuleSpec
from icsuite_alerts.repository import RuleCodec
from icsuite_chassis.store import MongoAggregateStore
from icsuite_chassis.testing import bearer
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.identity_v1 import ContactIdentified
from pymongo import AsyncMongoClient

from . import alerts_eval
from .bare_stream import BareStream
from .common import log, pct, running_service, unique
from .ingest_parts import Producer
from .offsets import start_groups_at_the_end
from .stats import ratios, spread

WARMUP = 10
RATE = 100.0


def absence_rule(agent: str, within_s: int) -> Rule:
    spec = RuleSpec("bench absence", (alerts_eval.TRIGGER,), f'event.agent_id == "{agent}"', "info",
                    "Absence for {event.contact_id}", "agent", 0,
                    after=Absence(within_s, ("ic.callback.claimed.v1",)))
    return Rule("bench-absence", 1, spec)


async def store_rules(mongodb_uri: str, database: str, count: int, agent: str, absent_agent: str,
                      within_s: int) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        rules = MongoAggregateStore(client[database], "rules", RuleCodec())
        for rule in [*alerts_eval.bench_rules(count, always=f'event.agent_id == "{agent}"'),
                     absence_rule(absent_agent, within_s)]:
            await rules.change(rule.rule_id, decide_create(rule, by="bench", now=datetime.now(UTC)))
    finally:
        await client.close()


def _event(agent: str, contact: str) -> Any:
    return new_envelope(ContactIdentified(contact_id=contact, account_id=f"acc-{contact}", method="auto_number",
                                          confirmed=False, agent_id=agent), source="/bench")


async def stream_run(url: str, agent: str, producer: Producer, events: int, rate: float,
                     after_s: float = 0.0, timeout_s: float = 15.0, rule: str | None = None) -> dict[str, Any]:
    """Publish ``events`` of ``agent`` at ``rate``; per event: arrival on the stream - (send + ``after_s``),
    counting only alerts of ``rule`` when given (other rules may match the same events at once)."""
    tag = unique(f"{agent}-")
    arrived: dict[str, float] = {}
    sent: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client, \
            client.stream("GET", url, headers=bearer(agent, "agent")) as response:

        async def read() -> None:
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    data = json.loads(line[6:])
                    contact = data.get("contact_id")
                    if contact is not None and contact not in arrived and rule in (None, data.get("rule_id")):
                        arrived[contact] = time.perf_counter()

        reader = asyncio.create_task(read())
        try:
            for i in range(WARMUP if after_s == 0 else 0):  # one at a time until the path is warm
                contact = f"{tag}-w{i}"
                await (await producer.send(_event(agent, contact), "ic.identity.v1"))
                warm_until = time.perf_counter() + timeout_s  # a path that never warms is measured, not waited for
                while contact not in arrived and time.perf_counter() < warm_until:
                    await asyncio.sleep(0.005)
            started = time.perf_counter()
            for i in range(events):
                await asyncio.sleep(max(0.0, started + i / rate - time.perf_counter()))
                contact = f"{tag}-{i}"
                sent[contact] = time.perf_counter()
                await producer.send(_event(agent, contact), "ic.identity.v1")
            deadline = time.perf_counter() + after_s + timeout_s
            while any(c not in arrived for c in sent) and time.perf_counter() < deadline:
                await asyncio.sleep(0.02)
        finally:
            reader.cancel()
    late = [(arrived[c] - t - after_s) * 1000 for c, t in sent.items() if c in arrived]
    return {"events": events, "missing": sum(1 for c in sent if c not in arrived),
            "p50_ms": pct(late, 50), "p99_ms": pct(late, 99), "max_ms": max(late) if late else None}


async def stream_and_absence(stack_env: dict[str, str], logs: Path, rules: int, events: int, repeats: int,
                             within_s: int, absences: int) -> tuple[dict[str, Any], dict[str, Any]]:
    agent, absent_agent = unique("bench-agent-"), unique("bench-absent-")
    database = unique("bench_alerts_")
    await store_rules(stack_env["MONGODB_URI"], database, rules, agent, absent_agent, within_s)
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    prefix = unique("bench-") + "."  # the rules' consumer starts at the end of its topics (bench.offsets)
    skipped = await start_groups_at_the_end(bootstrap, {f"{prefix}alerts.{CONSUMER}": CONSUMED_TOPICS})
    log(f"alerts: the rules' consumer skips {skipped} events earlier sections left on its topics")
    runs: dict[str, list[dict[str, Any]]] = {"suite": [], "bare": []}
    with running_service("alerts", stack_env, logs, database=database,
                         extra={"IC_ALERTS_SEED_STANDARD_RULES": "false",
                                "IC_ALERTS_CONSUMER_GROUP_PREFIX": prefix}) as service, \
            BareStream(bootstrap, unique("bench-bare-stream-")) as bare_url:
        urls = {"suite": f"{service.url}/v1/agents/{agent}/alerts/stream", "bare": bare_url}
        async with Producer(bootstrap) as producer:
            for rep in range(repeats):
                for side in ("bare", "suite") if rep % 2 == 0 else ("suite", "bare"):
                    log(f"alerts: stream run {rep + 1}/{repeats}, {side}, {events} events at {RATE:.0f}/s")
                    runs[side].append(await stream_run(urls[side], agent, producer, events, RATE))
                    log(f"alerts: {side} {runs[side][-1]}")
            log(f"alerts: {absences} absence triggers, due {within_s} s after each")
            absence = await stream_run(f"{service.url}/v1/agents/{absent_agent}/alerts/stream", absent_agent,
                                       producer, absences, 10.0, after_s=within_s, rule="bench-absence")
            log(f"alerts: absence {absence}")
    p99 = {side: [r["p99_ms"] for r in rs] for side, rs in runs.items()}
    stream = {"rate": RATE, "events": events, "runs": runs, "backlog_skipped": skipped,
              "suite_p50_ms": spread([r["p50_ms"] for r in runs["suite"]], 1), "suite_p99_ms": spread(p99["suite"], 1),
              "bare_p50_ms": spread([r["p50_ms"] for r in runs["bare"]], 1), "bare_p99_ms": spread(p99["bare"], 1),
              "ratio": spread(ratios(p99["suite"], p99["bare"])),
              "missing": sum(r["missing"] for rs in runs.values() for r in rs)}
    return stream, {"count": absences, "within_s": within_s, **absence,
                    "late_p50_ms": spread([absence["p50_ms"]], 0), "late_p99_ms": spread([absence["p99_ms"]], 0)}


def budget(rules: int, events: int, rounds: int) -> dict[str, Any]:
    """Evaluations/s with the evaluation budget on / off (``bench/alerts_budget.py``, the alerts engineer's:
    the same rules compiled with and without the budget, rounds alternating), for the usual mix of conditions
    and for one where every condition builds or iterates; n/a until that module exists."""
    try:
        from . import alerts_budget  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return {"why": "n/a: the evaluator has no evaluation budget yet (bench/alerts_budget.py)"}
    result = alerts_budget.budget_comparison(rules, events, max(rounds, 3))
    mixes = {}
    for name in ("usual_mix", "building_mix"):
        r = result[name]
        side = {key: {"median": r[f"budget_{key}_per_s"], "min": r[f"spread_{key}_per_s"][0],
                      "max": r[f"spread_{key}_per_s"][1], "n": r["rounds"]} for key in ("on", "off")}
        low, high = r.get("ratio_spread") or (r["ratio_on_vs_off"], r["ratio_on_vs_off"])
        mixes[name] = {"with_per_s": side["on"], "without_per_s": side["off"],  # the median of the rounds' ratios
                       "ratio": {"median": r["ratio_on_vs_off"], "min": low, "max": high,
                                 "n": r["rounds"] if "ratio_spread" in r else 1}}
    return {**mixes["usual_mix"], "mixes": mixes}


async def run_alerts(stack_env: dict[str, str], logs: Path, *, rules: int, quick: bool = False,
                     repeats: int = 3) -> dict[str, Any]:
    log(f"alerts: pure evaluation with {rules} rules")
    evaluation = await asyncio.to_thread(alerts_eval.pure_evaluation, rules, 100 if quick else 2000)
    log(f"alerts: {evaluation}")
    budgeted = await asyncio.to_thread(budget, rules, 100 if quick else 500, repeats)
    stream, absence = await stream_and_absence(stack_env, logs, rules, 50 if quick else 500, repeats,
                                               within_s=2, absences=5 if quick else 50)
    return {"evaluation": evaluation, "budget": budgeted, "stream": stream, "absence": absence}
