"""Contact-event ingest: the interactions service against a bare pipeline, on the same stack, same events.

How it measures (see bench/README.md):

- **Events** come from the channel simulator's :class:`~icsuite_tools.scenarios.ScenarioGenerator`
  (contacts only: calls with IVR, queue, agent, hold and transfer segments, IVR self-service, e-mail),
  flattened into their ``ic.contacts.v1`` envelopes in order, each contact's events one after the other.
- **Sustained rate** (as fast as it can): a backlog of N events is published as fast as the producer takes
  it (the same envelopes to ``ic.contacts.v1`` and to a bench topic with the same partitions), then each
  consumer is started on its own and drains it. The rate is taken from the consumer group's committed
  offsets (both commit only after the batch is stored), polled every 50 ms: events committed between the
  first and the last observation / the time between them (start-up and group join excluded).
- **Latency at fixed rates**: events are published at a fixed rate to one pipeline at a time. The
  publish time is taken just before ``producer.send`` (same process, monotonic clock). A poller queries
  the pipeline's database every 10 ms for the records with unconfirmed events (``_id $in``, projection
  ``_applied``) and takes the moment the answer arrives as the stored time of each event id it finds
  there (the service records the event id in the same single-document write as the effect). So the
  figure is an upper bound with a resolution of one poll cycle (reported).
- **Visible through the gateway**: about 4 sampled events per second are fetched with
  ``GET /v1/interactions/{id}`` every 10 ms until the response shows their effect.
- **Lost and duplicated effects**: after each phase, every published event must be in its record's
  ``_applied`` exactly once and its effect must be in the record (opened_at, the segment, the end).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from icsuite_contracts.cloudevents import Envelope
from pymongo import AsyncMongoClient

from .common import Service, cpu_seconds, log, start_service, unique
from .ingest_parts import (  # noqa: F401 - re-exported: the smoke test and the other sections import them here
    CONTACTS_TOPIC, MIX, PARTITIONS, BarePipeline, GatewayProbe, Producer, StoredPoller, committed, contact_events,
    drain_rate, end_offsets_total, record_id, verify,
)
from .ingest_rates import Target, half_latency, rate_phase


SETTLE_TIMEOUT_S = 60.0


@dataclass
class Pipeline:
    """One side of the interleaved comparison: started for a phase on a fresh database, stopped after it;
    the consumer group stays (its offsets go on)."""

    name: str
    topic: str
    group: str
    start: Any  # (database) -> pid
    stop: Any   # () -> None
    database: str = ""
    batches: Any = None  # () -> {"batches": n, "busy_s": s} of the phase so far, read before stop


async def _settled(client: AsyncMongoClient[dict[str, Any]], admin: AIOKafkaAdminClient, bootstrap: str,
                   pipeline: Pipeline, timeline_group: str | None) -> float:
    """Wait until the suite's extra work of a phase is done: outbox empty, timeline caught up, no
    self-service reminder left; the seconds it took (0 for the bare pipeline, which has none)."""
    if timeline_group is None:
        return 0.0
    db = client[pipeline.database]
    started = time.perf_counter()
    while time.perf_counter() - started < SETTLE_TIMEOUT_S:
        outbox = await db["interactions"].count_documents({"_outbox.0": {"$exists": True}})
        due = await db["interactions"].count_documents({"self_service_due_at": {"$exists": True}})
        try:
            behind = await end_offsets_total(bootstrap, "ic.interactions.v1") - await committed(
                admin, timeline_group, "ic.interactions.v1")
        except Exception:
            behind = 1
        if outbox == 0 and due == 0 and behind <= 0:
            return round(time.perf_counter() - started, 2)
        await asyncio.sleep(0.1)
    return float("nan")


async def interleaved_phase(pipeline: Pipeline, events: Sequence[Envelope], producer: Producer,
                            admin: AIOKafkaAdminClient, client: AsyncMongoClient[dict[str, Any]], bootstrap: str,
                            stack_pids: dict[str, int | None], timeline_group: str | None,
                            drop: bool = True) -> dict[str, Any]:
    """Publish ``events`` to the stopped pipeline's topic, start it on a fresh database (dropped after the
    phase, so that every phase starts from empty collections), measure its drain, wait for its
    extra work to settle, verify, stop it. CPU of the pipeline process and of the database JVM and Kafka
    from the first commit observed until settled."""
    try:
        base = await committed(admin, pipeline.group, pipeline.topic)
    except Exception:
        base = 0
    published = await producer.flood(events, pipeline.topic)
    load = round(os.getloadavg()[0], 2)
    pipeline.database = unique(f"bench_{pipeline.name}_")
    pid = pipeline.start(pipeline.database)
    drained = await drain_rate(admin, pipeline.group, pipeline.topic, base, len(events), pid,
                               timeout=max(120.0, len(events) / 50),
                               others={k: v for k, v in stack_pids.items() if v})
    cpu_at_drain = {k: cpu_seconds(v) for k, v in {"pipeline": pid, **stack_pids}.items()}
    settle_s = await _settled(client, admin, bootstrap, pipeline, timeline_group)
    cpu_after = {k: cpu_seconds(v) for k, v in {"pipeline": pid, **stack_pids}.items()}
    drained["publisher_events_per_s"] = round(published, 1)
    drained["settle_s"] = settle_s
    drained["load_average"] = load
    drained["after_drain_cpu_s"] = {k: round((cpu_after[k] or 0) - (cpu_at_drain[k] or 0), 2) for k in cpu_after}
    if pipeline.name == "suite" and pipeline.batches is not None:
        drained["batches"] = await pipeline.batches()
    pipeline.stop()
    if pipeline.name == "bare" and pipeline.batches is not None:
        drained["batches"] = await pipeline.batches()
    checked = await verify(client[pipeline.database]["interactions"], events)
    if drop:
        await client.drop_database(pipeline.database)  # every phase starts from empty collections
    return drained | _lost_dup(checked)


async def run_ingest(stack_env: dict[str, str], logs: Path, *, backlog: int, rates: Sequence[float],
                     duration: float, pairs: int = 3, warmup: int = 3000, seed: int = 7,
                     stack_pids: dict[str, int | None] | None = None,
                     profile: Path | None = None, latency_repeats: int = 3) -> dict[str, Any]:
    """The ratio from ``pairs`` interleaved repetitions on one stack, then latency at fixed rates.

    Each repetition publishes a fresh backlog (the same envelopes to both pipelines) and drains it with
    one pipeline at a time, the other stopped: bare then suite in even repetitions, suite then bare in
    odd ones, so drift of the shared machine's load hits both sides alike. Every phase starts on a fresh
    database (the MongoDB-wire server scans for the guarded filter, so a write costs more the more
    records the collection holds: with one database kept across phases each pair ran slower than the
    last). Before the pairs, each pipeline drains ``warmup`` events once, not counted (the first drain
    of a fresh stack also warms the database JVM and Kafka's new topics). The ratio of each pair is
    suite / bare; reported: the median and the spread.
    """
    bootstrap = stack_env["KAFKA_BOOTSTRAP_SERVERS"]
    stack_pids = stack_pids or {}
    bare_topic = unique("bench.contacts.")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(bare_topic, PARTITIONS, 1)])
    await asyncio.sleep(1)  # let the new topic reach every client's metadata
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    result: dict[str, Any] = {"backlog_events": backlog, "mix": MIX, "pairs": [], "method": "interleaved"}
    bare = BarePipeline(stack_env, logs, bare_topic)
    suite_prefix = unique("bench-") + "."
    suite_extra = {"IC_INTERACTIONS_CONSUMER_GROUP_PREFIX": suite_prefix}
    service: Service | None = None
    profiling = False

    def start_suite(database: str, profile_to: Path | None = None) -> int | None:
        nonlocal service, profiling
        profiling = profile_to is not None
        service = start_service("interactions", stack_env, logs, database=database, extra=suite_extra,
                                profile=profile_to)
        return service.process.pid

    def stop_suite() -> None:
        nonlocal service
        if service is not None:
            if profiling and service.process.pid is not None:
                # uvicorn re-raises the SIGTERM it caught, which ends pyinstrument without its report;
                # after SIGINT the re-raised signal is a KeyboardInterrupt, and pyinstrument writes it
                os.killpg(service.process.pid, signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    service.process._process.wait(120)  # type: ignore[union-attr]
            service.stop()
            service = None

    def start_bare(database: str) -> int | None:
        bare.database = bare.process.env["BENCH_BARE_DATABASE"] = database
        bare.start()
        return bare.process.pid

    async def suite_batches() -> dict[str, Any]:
        """Batches handled and seconds spent in them, per consumer, from the service's /metrics."""
        assert service is not None
        async with httpx.AsyncClient(base_url=service.url, timeout=10) as http:
            text = (await http.get("/metrics")).text
        out: dict[str, Any] = {}
        for line in text.splitlines():
            for suffix, key in (("_count", "batches"), ("_sum", "busy_s")):
                if line.startswith(f"ic_event_handle_duration_seconds{suffix}{{"):
                    consumer = line.split('consumer="', 1)[1].split('"', 1)[0].rsplit(".", 1)[-1]
                    out.setdefault(consumer, {})[key] = round(float(line.rsplit(" ", 1)[1]), 3)
        return out

    async def bare_batches() -> dict[str, Any]:
        line = bare.process.output_since_start().rsplit("bare pipeline stopping:", 1)[-1].split("\n", 1)[0]
        fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
        return {"contacts": {"batches": int(fields.get("batches", 0)), "busy_s": float(fields.get("busy_s", 0))}}

    sides = {"bare": Pipeline("bare", bare_topic, bare.group, start_bare, bare.stop, batches=bare_batches),
             "suite": Pipeline("suite", CONTACTS_TOPIC, f"{suite_prefix}interactions.contacts", start_suite,
                               stop_suite, batches=suite_batches)}
    timeline_group = f"{suite_prefix}interactions.timeline"
    try:
        async with Producer(bootstrap) as producer:
            if warmup:
                events = contact_events(warmup, seed - 1)
                for name in ("bare", "suite"):
                    log(f"ingest: warm-up, {name} drains {len(events)} events (not counted)")
                    result.setdefault("warmup", {})[name] = await interleaved_phase(
                        sides[name], events, producer, admin, client, bootstrap, stack_pids,
                        timeline_group if name == "suite" else None)
            for rep in range(pairs):
                events = contact_events(backlog, seed + rep)
                order = ("bare", "suite") if rep % 2 == 0 else ("suite", "bare")
                pair: dict[str, Any] = {"rep": rep, "order": list(order)}
                for name in order:
                    log(f"ingest: pair {rep + 1}/{pairs}, {name} drains {len(events)} events")
                    pair[name] = await interleaved_phase(sides[name], events, producer, admin, client, bootstrap,
                                                         stack_pids, timeline_group if name == "suite" else None)
                    log(f"ingest: {name} {pair[name]}")
                s, b = pair["suite"].get("events_per_s"), pair["bare"].get("events_per_s")
                pair["ratio"] = round(s / b, 3) if s and b else None
                result["pairs"].append(pair)
                result.setdefault("publisher_events_per_s", pair["bare"].get("publisher_events_per_s"))
            if profile is not None:
                events = contact_events(backlog, seed + pairs)
                log(f"ingest: one more suite drain under pyinstrument -> {profile}")
                profiled = Pipeline("suite", CONTACTS_TOPIC, sides["suite"].group,
                                    lambda database: start_suite(database, profile), stop_suite,
                                    batches=suite_batches)
                result["profiled_suite"] = await interleaved_phase(profiled, events, producer, admin, client,
                                                                   bootstrap, stack_pids, timeline_group)
                result["profiled_suite"]["profile"] = str(profile)
        ratios = [p["ratio"] for p in result["pairs"] if p["ratio"]]
        result["ratios"] = ratios
        result["ratio"] = round(statistics.median(ratios), 3) if ratios else None
        result["ratio_min"], result["ratio_max"] = (min(ratios), max(ratios)) if ratios else (None, None)
        for name in ("suite", "bare"):
            rates_ = [p[name]["events_per_s"] for p in result["pairs"] if p[name].get("events_per_s")]
            cpu = [p[name]["consumer_cpu_ms_per_event"] for p in result["pairs"]
                   if p[name].get("consumer_cpu_ms_per_event") is not None]
            result[f"{name}_drain"] = {
                "events_per_s": round(statistics.median(rates_), 1) if rates_ else None,
                "events_per_s_all": rates_,
                "consumer_cpu_ms_per_event": round(statistics.median(cpu), 3) if cpu else None,
                "lost": sum(p[name]["lost"] for p in result["pairs"]),
                "duplicated": sum(p[name]["duplicated"] for p in result["pairs"])}
        suite_rate = result["suite_drain"]["events_per_s"]
        half = round(suite_rate / 2) if suite_rate else None
        result["half_rate"] = half
        phases = sorted({*rates, *([half] if half else [])})
        result["rates"] = []
        if phases and duration > 0:
            suite_db = unique("bench_suite_")
            start_bare(unique("bench_bare_"))
            start_suite(suite_db)
            assert service is not None
            targets = [Target("suite", CONTACTS_TOPIC, sides["suite"].group, client[suite_db]["interactions"],
                              service.url, service.process.pid),
                       Target("bare", bare_topic, bare.group, client[bare.database]["interactions"], None,
                              bare.process.pid)]
            async with Producer(bootstrap) as producer:
                for n, rate in enumerate(phases):  # half the sustained rate repeated, the order alternating
                    for rep in range(latency_repeats if rate == half else 1):
                        for target in targets if rep % 2 == 0 else targets[::-1]:
                            log(f"ingest: {rate} events/s for {duration:.0f} s into the {target.name} pipeline")
                            phase = await rate_phase(producer, target, rate, duration, seed + 100 + 10 * n + rep)
                            phase["half_of_sustained"] = rate == half
                            result["rates"].append(phase)
                            log(f"ingest: {phase}")
            result["half_latency"] = half_latency(result["rates"])
    finally:
        stop_suite()
        bare.stop()
        await admin.close()
        await client.close()
    return result


def _lost_dup(checked: dict[str, int]) -> dict[str, int]:
    return {"lost": checked["lost"], "duplicated": checked["duplicated"], "records": checked["records"]}
