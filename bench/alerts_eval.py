"""Alerts benchmark: rule evaluations per second with 1,000 enabled rules, and event-to-stream latency.

    uv run python bench/alerts_eval.py [--rules 1000] [--events 2000] [--latency-events 200] [--skip-latency]

Part 1 is pure evaluation (no I/O): 1,000 enabled rules on one trigger type, each event evaluated
against all of them with its facts, as the consumer does. It also times cel-python's own interpreter on
a sample, for comparison. Part 2 runs the service in this process against Kafka and the MongoDB-wire
server (``KAFKA_BOOTSTRAP_SERVERS``/``MONGODB_URI`` if set, else a local stack it starts and stops),
with the same 1,000 rules loaded, holds an SSE stream open over a real socket, publishes contact events
one by one and measures the time from the publish to the alert arriving on the stream.

Each figure has a bare baseline measured in the same run, so that a busy machine shows in both: the
conditions as hand-written Python functions, and a bare Kafka consumer that inserts one document per event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import summary_ms  # noqa: E402

from icsuite_alerts.domain.evaluation import RuleBook, evaluate  # noqa: E402
from icsuite_alerts.domain.observations import observe  # noqa: E402
from icsuite_alerts.domain.rules import Rule, RuleSpec  # noqa: E402

TRIGGER = "ic.identity.contact-identified.v1"
CONDITIONS = [
    "facts.dunning_level >= {n}",
    "facts.balance > {n}.5 && \"vip\" in facts.flags",
    "facts.contacts_last_7d >= {n} || facts.open_callbacks > {n}",
    'event.method == "agent_search" && facts.overdue_followups > {n}',
    'event.account_id.startsWith("acc-{n}") && facts.balance > 100.0',
    'has(event.agent_id) && facts.last_interaction_outcome == "unresolved"',
    '"debt" in facts.flags || facts.dunning_level > {n} && event.confirmed',
    "facts.balance * 2.0 > {n}000.0 && facts.contacts_last_30d > 1",
]


BARE_CONDITIONS = [  # the same conditions written by hand in Python: the floor for any evaluator
    lambda n: lambda e, f: f["dunning_level"] >= n,
    lambda n: lambda e, f: f["balance"] > n + 0.5 and "vip" in f["flags"],
    lambda n: lambda e, f: f["contacts_last_7d"] >= n or f["open_callbacks"] > n,
    lambda n: lambda e, f: e["method"] == "agent_search" and f["overdue_followups"] > n,
    lambda n: lambda e, f: e["account_id"].startswith(f"acc-{n}") and f["balance"] > 100.0,
    lambda n: lambda e, f: e.get("agent_id") is not None and f["last_interaction_outcome"] == "unresolved",
    lambda n: lambda e, f: "debt" in f["flags"] or (f["dunning_level"] > n and e["confirmed"]),
    lambda n: lambda e, f: f["balance"] * 2.0 > n * 1000.0 and f["contacts_last_30d"] > 1,
]


def bare_conditions_per_s(rule_count: int, inputs: list[tuple[dict, dict]]) -> int:
    """Baseline in the same run: the conditions as hand-written Python functions (no compiler, no CEL)."""
    conditions = [BARE_CONDITIONS[i % len(BARE_CONDITIONS)](i % 9 + 1) for i in range(rule_count)]
    started = time.perf_counter()
    for event, facts in inputs:
        for condition in conditions:
            condition(event, facts)
    return round(len(inputs) * rule_count / (time.perf_counter() - started))


def bench_rules(count: int, *, always: str | None = None) -> list[Rule]:
    rules = []
    for i in range(count):
        condition = always if (always and i == 0) else CONDITIONS[i % len(CONDITIONS)].format(n=i % 9 + 1)
        spec = RuleSpec(f"bench {i}", (TRIGGER,), condition, "info", "Rule {facts.balance} for {event.contact_id}",
                        "agent", 0)
        rules.append(Rule(f"bench-{i:04d}", 1, spec))
    return rules


def sample_inputs(n: int) -> list[tuple[dict, dict]]:
    rng = random.Random(7)
    inputs = []
    for i in range(n):
        event = {"contact_id": f"ct-{i}", "account_id": f"acc-{rng.randint(1, 99)}", "method": rng.choice(
            ["auto_number", "agent_search"]), "confirmed": rng.random() < 0.5, "agent_id": "a-1",
            "ce_type": TRIGGER}
        facts = {"balance": rng.expovariate(1 / 150), "dunning_level": rng.choice([0] * 8 + [1, 2]),
            "flags": rng.choice([[]] * 8 + [["vip"], ["debt"]]), "open_callbacks": rng.choice([0] * 9 + [1]),
            "overdue_followups": rng.choice([0] * 9 + [1]), "contacts_last_7d": rng.choice([0, 1, 1, 2, 3]),
            "contacts_last_30d": rng.randint(0, 8),
            "last_interaction_outcome": rng.choice([None, "resolved", "unresolved"])}
        inputs.append((event, facts))
    return inputs


def pure_evaluation(rule_count: int, events: int) -> dict:
    started = time.perf_counter()
    book = RuleBook(bench_rules(rule_count))
    compile_s = time.perf_counter() - started
    rules = book.rules_for(TRIGGER)
    inputs = sample_inputs(events)
    conditions = [r.condition for r in rules]
    started = time.perf_counter()
    for event, facts in inputs:
        activation = {"event": event, "facts": facts}
        for condition in conditions:
            condition.matches(activation)
    conditions_s = time.perf_counter() - started
    started = time.perf_counter()
    raised = 0
    for i, (event, facts) in enumerate(inputs):
        raised += len(evaluate(rules, event=event, facts=facts, event_id=f"e-{i}", event_type=TRIGGER,
                               time=datetime.now(UTC), account_id=event["account_id"], contact_id=event["contact_id"],
                               agent_id="a-1"))
    full_s = time.perf_counter() - started
    evaluations = events * len(rules)
    bare = bare_conditions_per_s(rule_count, inputs)
    return {"rules": len(rules), "compile_s": round(compile_s, 2), "events": events,
            "conditions_per_s": round(evaluations / conditions_s), "bare_python_conditions_per_s": bare,
            "conditions_vs_bare": round(evaluations / conditions_s / bare, 2),
            "evaluations_per_s_with_messages": round(evaluations / full_s),
            "matches_per_event": round(raised / events, 1), "celpy_interpreter_per_s": celpy_interpreter(inputs)}


def celpy_interpreter(inputs: list[tuple[dict, dict]], samples: int = 2000) -> int:
    import celpy

    env = celpy.Environment()
    programs = [env.program(env.compile(c.format(n=3))) for c in CONDITIONS]
    activations = [{"event": celpy.json_to_cel(e), "facts": celpy.json_to_cel(f)} for e, f in inputs[:50]]
    started = time.perf_counter()
    for i in range(samples):
        try:
            programs[i % len(programs)].evaluate(activations[i % len(activations)])
        except Exception:
            pass
    return round(samples / (time.perf_counter() - started))


async def latency(rule_count: int, events: int) -> dict:
    import httpx
    import uvicorn
    from aiokafka import AIOKafkaProducer
    from icsuite_chassis.testing import bearer, running_app, unique
    from icsuite_contracts.cloudevents import new_envelope, to_kafka
    from icsuite_contracts.identity_v1 import ContactIdentified
    from icsuite_devstack.stack import stack_from_env, start_stack

    from icsuite_alerts.bootstrap import build_app
    from icsuite_alerts.domain.rule_records import decide_bump, decide_create
    from icsuite_alerts.settings import AlertsSettings

    stack = stack_from_env()
    tmp = None
    if stack is None:
        tmp = tempfile.TemporaryDirectory()
        stack = start_stack(Path(tmp.name), mongo_memory=True, out=lambda line: print(f"[devstack] {line}"))
    try:
        stack.create_topics()
        agent = unique("bench-agent")
        settings = AlertsSettings(kafka_bootstrap_servers=stack.kafka_bootstrap, mongodb_uri=stack.mongodb_uri,
                                  mongodb_database=unique("alerts_bench").replace("-", "_"),
                                  consumer_group_prefix=unique("bench") + ".", seed_standard_rules=False)
        await start_at_end(stack.kafka_bootstrap, f"{settings.consumer_group_prefix}alerts.facts-and-rules")
        app = build_app(settings)
        async with running_app(app):
            service = app.state.service
            stages: dict[str, list[float]] = {"consume": [], "handle": []}
            original = service.on_event  # the bench sends one event at a time: a batch is one event

            async def timed(envelope):  # type: ignore[no-untyped-def]
                began = time.perf_counter()
                stages["consume"].append(began)
                await original(envelope)
                stages["handle"].append(time.perf_counter() - began)

            async def timed_batch(envelopes):  # type: ignore[no-untyped-def]
                for envelope in envelopes:
                    await timed(envelope)

            for consumer in app.state.runtime.consumers:
                consumer.spec = replace(consumer.spec, batch_handler=timed_batch,
                                        handlers={t: timed for t in consumer.spec.handlers})
            for rule in bench_rules(rule_count, always=f'event.agent_id == "{agent}"'):
                await service.rules.change(rule.rule_id, decide_create(rule, by="bench", now=datetime.now(UTC)))
            await service.meta.change("rules_revision", decide_bump)
            await service.cache.refresh()
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None, access_log=False))
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started:
                await asyncio.sleep(0.05)
            url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/agents/{agent}/alerts/stream"
            samples: list[float] = []
            to_handler: list[float] = []
            producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all", enable_idempotence=True)
            await producer.start()
            async with httpx.AsyncClient(timeout=30) as client, \
                    client.stream("GET", url, headers=bearer(agent, "agent")) as response:
                lines = response.aiter_lines()
                await anext(lines)
                for i in range(events + 10):
                    contact = f"{agent}-ct-{i}"
                    envelope = new_envelope(ContactIdentified(contact_id=contact, account_id=f"acc-{i}",
                                                              method="auto_number", confirmed=False, agent_id=agent),
                                            source="/bench")
                    record = to_kafka(envelope)
                    sent = time.perf_counter()
                    await producer.send_and_wait(record.topic, record.value, key=record.key, headers=record.headers)
                    while True:
                        line = await asyncio.wait_for(anext(lines), 30)
                        if line.startswith("data: ") and json.loads(line[6:])["contact_id"] == contact:
                            break
                    if i >= 10:  # warm-up excluded
                        samples.append(time.perf_counter() - sent)
                        to_handler.append(stages["consume"][-1] - sent)
            server.should_exit = True
            await serving
        bare = await bare_latency(stack, producer, events)
        await producer.stop()
        return {"rules": rule_count, **summary_ms(samples), "bare": bare,
                "stages": {"publish_to_handler": summary_ms(to_handler), "handler": summary_ms(stages["handle"][10:])}}
    finally:
        if tmp is not None:
            stack.stop()
            tmp.cleanup()


async def start_at_end(bootstrap: str, group: str) -> None:
    """Commit the end of the consumed topics for ``group``: on a shared broker the service would first
    read every event earlier runs left there (tens of thousands) before the bench's own."""
    from icsuite_chassis.testing import commit_group_at_end

    await commit_group_at_end(bootstrap, group, ["ic.contacts.v1", "ic.masterdata.v1", "ic.identity.v1",
                                                 "ic.interactions.v1", "ic.callbacks.v1", "ic.followups.v1"])


async def bare_latency(stack, producer, events: int) -> dict:  # type: ignore[no-untyped-def]
    """Baseline in the same run: the same events published, read by a bare consumer that inserts one document
    each (no rules, projections or stream); from just before the send to the insert's return."""
    from aiokafka import AIOKafkaConsumer
    from icsuite_chassis.testing import unique
    from icsuite_contracts.cloudevents import new_envelope, to_kafka
    from icsuite_contracts.identity_v1 import ContactIdentified
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient = AsyncMongoClient(stack.mongodb_uri, tz_aware=True)
    collection = client[unique("alerts_bench_bare").replace("-", "_")]["alerts"]
    consumer = AIOKafkaConsumer("ic.identity.v1", bootstrap_servers=stack.kafka_bootstrap, group_id=unique("bare"),
                                auto_offset_reset="latest", fetch_max_wait_ms=20)
    await consumer.start()
    try:
        while not consumer.assignment():
            await asyncio.sleep(0.05)
        await consumer.seek_to_end()
        samples: list[float] = []
        for i in range(events + 10):
            contact = unique("bare-ct")
            record = to_kafka(new_envelope(ContactIdentified(contact_id=contact, account_id=f"acc-{i}",
                                                             method="auto_number", confirmed=False, agent_id="a-1"),
                                           source="/bench"))
            sent = time.perf_counter()
            await producer.send_and_wait(record.topic, record.value, key=record.key, headers=record.headers)
            while True:
                message = await asyncio.wait_for(consumer.getone(), 30)
                if message.key == record.key:
                    await collection.insert_one({"_id": contact, "value": message.value})
                    break
            if i >= 10:
                samples.append(time.perf_counter() - sent)
        return summary_ms(samples)
    finally:
        await consumer.stop()
        await client.drop_database(collection.database.name)
        await client.close()


def main() -> None:
    from alerts_budget import budget_comparison  # it imports this module's conditions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--latency-events", type=int, default=200)
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()
    result = {"pure_evaluation": pure_evaluation(args.rules, args.events)}
    result["budget"] = budget_comparison(args.rules, min(args.events, 500))  # bench/alerts_budget.py
    print(json.dumps(result, indent=2), flush=True)
    if not args.skip_latency:
        result["event_to_stream"] = asyncio.run(latency(args.rules, args.latency_events))
        print(json.dumps(result["event_to_stream"], indent=2))
    pure = result["pure_evaluation"]
    print(f"rule evaluations per second ({pure['rules']} enabled rules): "
          f"{pure['evaluations_per_s_with_messages']:,} (conditions alone {pure['conditions_per_s']:,}; "
          f"bare Python functions in the same run {pure['bare_python_conditions_per_s']:,})")
    if "event_to_stream" in result:
        stream = result["event_to_stream"]
        print(f"event on Kafka -> alert on the stream: p50 {stream['p50_ms']} ms, p99 {stream['p99_ms']} ms "
              f"(bare consumer + one insert in the same run: p50 {stream['bare']['p50_ms']} ms, "
              f"p99 {stream['bare']['p99_ms']} ms)")


if __name__ == "__main__":
    main()
