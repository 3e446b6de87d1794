"""Alerts: rule evaluations per second with N enabled rules, and event on Kafka -> alert on the SSE stream.

Evaluation is :func:`bench.alerts_eval.pure_evaluation` (the alerts engineer's benchmark: N enabled rules on
one trigger, each event evaluated against all of them with its facts, as the consumer does, no I/O).

The latency runs the alerts service as a separate process (``python -m icsuite_alerts.main``, standard
rules off) with the same N rules stored through the service's own rules store before it starts
(one of them matches every event of the bench agent), holds the agent's SSE stream
(``GET /v1/agents/{agent}/alerts/stream``) open over a socket, publishes ``contact-identified`` events one
at a time with a producer that is already connected, and takes the time from just before the send to the
alert's ``data:`` line on the stream. The first events are warm-up and left out.
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
from icsuite_alerts.repository import RuleCodec
from icsuite_chassis.store import MongoAggregateStore
from icsuite_chassis.testing import bearer
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.identity_v1 import ContactIdentified
from pymongo import AsyncMongoClient

from . import alerts_eval
from .common import log, running_service, summary_ms, unique
from .ingest import Producer

WARMUP = 10


async def store_rules(mongodb_uri: str, database: str, count: int, agent: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    try:
        rules = MongoAggregateStore(client[database], "rules", RuleCodec())
        for rule in alerts_eval.bench_rules(count, always=f'event.agent_id == "{agent}"'):
            await rules.change(rule.rule_id, decide_create(rule, by="bench", now=datetime.now(UTC)))
    finally:
        await client.close()


async def stream_latency(stack_env: dict[str, str], logs: Path, rules: int, events: int) -> dict[str, Any]:
    agent = unique("bench-agent-")
    database = unique("bench_alerts_")
    await store_rules(stack_env["MONGODB_URI"], database, rules, agent)
    with running_service("alerts", stack_env, logs, database=database,
                         extra={"IC_ALERTS_SEED_STANDARD_RULES": "false"}) as service:
        samples: list[float] = []
        url = f"{service.url}/v1/agents/{agent}/alerts/stream"
        async with Producer(stack_env["KAFKA_BOOTSTRAP_SERVERS"]) as producer, \
                httpx.AsyncClient(timeout=60) as client, \
                client.stream("GET", url, headers=bearer(agent, "agent")) as response:
            lines = response.aiter_lines()
            for i in range(events + WARMUP):
                contact = f"{agent}-ct-{i}"
                envelope = new_envelope(ContactIdentified(contact_id=contact, account_id=f"acc-{i}",
                                                          method="auto_number", confirmed=False, agent_id=agent),
                                        source="/bench")
                sent = time.perf_counter()
                future = await producer.send(envelope, envelope.topic)
                while True:
                    line = await asyncio.wait_for(anext(lines), 30)
                    if line.startswith("data: ") and json.loads(line[6:]).get("contact_id") == contact:
                        break
                await future
                if i >= WARMUP:
                    samples.append(time.perf_counter() - sent)
        return {"rules": rules, **summary_ms(samples)}


async def run_alerts(stack_env: dict[str, str], logs: Path, *, rules: int, quick: bool = False) -> dict[str, Any]:
    log(f"alerts: pure evaluation with {rules} rules")
    evaluation = await asyncio.to_thread(alerts_eval.pure_evaluation, rules, 100 if quick else 2000)
    log(f"alerts: {evaluation}")
    log("alerts: event on Kafka -> alert on the stream (service as a separate process)")
    latency = await stream_latency(stack_env, logs, rules, 20 if quick else 200)
    log(f"alerts: {latency}")
    return {"evaluation": evaluation, "event_to_stream": latency}
