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
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from icsuite_chassis.testing import bearer
from icsuite_contracts.cloudevents import Envelope, to_kafka
from icsuite_devstack.processes import ServiceProcess
from icsuite_interactions.domain.ids import field_key, interaction_id_for_contact
from icsuite_tools.scenarios import ScenarioGenerator
from pymongo import AsyncMongoClient

from .common import ROOT, Service, cpu_seconds, log, start_service, summary_ms, unique

CONTACTS_TOPIC = "ic.contacts.v1"
PARTITIONS = 6
MIX = {"call": 0.7, "ivr": 0.15, "email": 0.15}
POLL_INTERVAL_S = 0.01
GATEWAY_SAMPLES_PER_S = 4.0


def contact_events(n_events: int, seed: int) -> list[Envelope]:
    """At least ``n_events`` contact envelopes from the simulator's scenario generator, whole contacts only."""
    generator = ScenarioGenerator(seed=seed, mix=MIX, run_id=unique("b"), known_ratio=0.0)
    envelopes: list[Envelope] = []
    now = datetime.now(UTC)
    while len(envelopes) < n_events:
        envelopes.extend(generator.next(now).envelopes)
    return envelopes


def record_id(envelope: Envelope) -> str:
    return interaction_id_for_contact(envelope.data.contact_id)  # type: ignore[attr-defined]


class Producer:
    """The simulator's producer settings (acks=all, idempotent, linger 5 ms), with a topic of our choice."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                          linger_ms=5, request_timeout_ms=30000, client_id="icsuite-bench")

    async def __aenter__(self) -> Producer:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._producer.stop()

    async def send(self, envelope: Envelope, topic: str) -> asyncio.Future[Any]:
        record = to_kafka(envelope)
        return await self._producer.send(topic, record.value, key=record.key, headers=record.headers)

    async def flood(self, envelopes: Sequence[Envelope], topic: str) -> float:
        """Publish all as fast as the broker takes them; the rate in events/s (acknowledged)."""
        started = time.perf_counter()
        futures = []
        for n, envelope in enumerate(envelopes):
            futures.append(await self.send(envelope, topic))
            if n % 500 == 0:
                await asyncio.sleep(0)
        await asyncio.gather(*futures)
        return len(envelopes) / (time.perf_counter() - started)

    async def paced(self, envelopes: Sequence[Envelope], topic: str, rate: float,
                    published: dict[str, float], on_send: Any = None) -> float:
        """Publish at ``rate`` events/s; ``published[id]`` = the monotonic time just before the send."""
        started = time.perf_counter()
        futures = []
        for n, envelope in enumerate(envelopes):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            published[envelope.id] = time.perf_counter()
            futures.append(await self.send(envelope, topic))
            if on_send is not None:
                on_send(envelope)
        await asyncio.gather(*futures)
        return len(envelopes) / (time.perf_counter() - started)


@dataclass
class StoredPoller:
    """Finds, by polling, when each published event's id appears in its record's ``_applied``."""

    collection: Any
    published: dict[str, float]
    pending: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    latencies: list[float] = field(default_factory=list)
    cycles: list[float] = field(default_factory=list)

    def expect(self, envelope: Envelope) -> None:
        self.pending[record_id(envelope)].add(envelope.id)

    async def run(self, done: asyncio.Event, timeout_after_done: float = 60.0) -> int:
        """Poll until ``done`` is set and nothing is pending (or the timeout); the number still pending."""
        deadline: float | None = None
        while True:
            if done.is_set():
                deadline = deadline or time.perf_counter() + timeout_after_done
                if not self.pending or time.perf_counter() > deadline:
                    return sum(len(v) for v in self.pending.values())
            ids = list(self.pending)[:2000]
            if ids:
                cycle_start = time.perf_counter()
                docs = [d async for d in self.collection.find({"_id": {"$in": ids}}, {"_applied": 1})]
                seen = time.perf_counter()
                self.cycles.append(seen - cycle_start)
                for doc in docs:
                    waiting = self.pending.get(doc["_id"])
                    if not waiting:
                        continue
                    for event_id in waiting.intersection(doc.get("_applied") or ()):
                        self.latencies.append(seen - self.published[event_id])
                        waiting.discard(event_id)
                    if not waiting:
                        del self.pending[doc["_id"]]
            await asyncio.sleep(POLL_INTERVAL_S)


def visible(view: dict[str, Any], envelope: Envelope) -> bool:
    """Whether the gateway's record shows the effect of ``envelope``."""
    data = envelope.data
    if envelope.type == "ic.contact.started.v1":
        return view.get("opened_at") is not None
    items = [m for m in view.get("media_items") or [] if m.get("media_item_id") == data.contact_id]  # type: ignore[attr-defined]
    if envelope.type == "ic.contact.ended.v1":
        return any(m.get("end_reason") is not None for m in items)
    return any(s.get("segment_id") == data.segment_id for m in items for s in m.get("segments") or [])  # type: ignore[attr-defined]


class GatewayProbe:
    """Fetches sampled records through the gateway until the sampled event's effect shows."""

    def __init__(self, url: str, published: dict[str, float]) -> None:
        self.client = httpx.AsyncClient(base_url=url, timeout=10, headers=bearer("bench", "agent"))
        self.published = published
        self.latencies: list[float] = []
        self.timeouts = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self._last = 0.0

    def maybe_sample(self, envelope: Envelope) -> None:
        now = time.perf_counter()
        if now - self._last >= 1 / GATEWAY_SAMPLES_PER_S:
            self._last = now
            task = asyncio.create_task(self._probe(envelope))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _probe(self, envelope: Envelope, timeout: float = 20.0) -> None:
        path = f"/v1/interactions/{record_id(envelope)}"
        start = self.published[envelope.id]
        while time.perf_counter() - start < timeout:
            response = await self.client.get(path)
            if response.status_code == 200 and visible(response.json(), envelope):
                self.latencies.append(time.perf_counter() - start)
                return
            await asyncio.sleep(POLL_INTERVAL_S)
        self.timeouts += 1

    async def finish(self) -> None:
        if self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
        await self.client.aclose()


async def verify(collection: Any, envelopes: Sequence[Envelope]) -> dict[str, int]:
    """Lost and duplicated effects of ``envelopes`` in their records."""
    by_record: dict[str, list[Envelope]] = defaultdict(list)
    for envelope in envelopes:
        by_record[record_id(envelope)].append(envelope)
    lost = duplicated = 0
    ids = list(by_record)
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        docs = {d["_id"]: d async for d in collection.find({"_id": {"$in": chunk}}, {"_outbox": 0})}
        for rid in chunk:
            doc = docs.get(rid)
            for envelope in by_record[rid]:
                if doc is None:
                    lost += 1
                    continue
                count = Counter(doc.get("_applied") or ())[envelope.id]
                count += sum(1 for late in doc.get("late_events") or [] if late.get("event_id") == envelope.id)
                if count == 0 or not _effect_stored(doc, envelope):
                    lost += 1
                elif count > 1:
                    duplicated += 1
    return {"events": len(envelopes), "records": len(by_record), "lost": lost, "duplicated": duplicated}


def _effect_stored(doc: dict[str, Any], envelope: Envelope) -> bool:
    data: Any = envelope.data
    if any(late.get("event_id") == envelope.id for late in doc.get("late_events") or []):
        return True
    media = (doc.get("media") or {}).get(field_key(data.contact_id)) or {}
    if envelope.type == "ic.contact.started.v1":
        return doc.get("opened_at") is not None and media.get("started_at") is not None
    if envelope.type == "ic.contact.ended.v1":
        return media.get("end_reason") == data.reason
    return field_key(data.segment_id) in (media.get("segments") or {})


async def committed(admin: AIOKafkaAdminClient, group: str, topic: str) -> int:
    offsets = await admin.list_consumer_group_offsets(group)
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


async def end_offsets_total(bootstrap: str, topic: str) -> int:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or range(PARTITIONS)]
        ends = await consumer.end_offsets(partitions)
        return sum(ends.values())
    finally:
        await consumer.stop()


async def drain_rate(admin: AIOKafkaAdminClient, group: str, topic: str, base: int, n: int, pid: int | None,
                     timeout: float, others: dict[str, int] | None = None) -> dict[str, Any]:
    """Watch ``group`` commit ``n`` more offsets on ``topic`` beyond ``base``; the drain rate, and the CPU
    per event of the consumer process and of ``others`` (e.g. the database JVM) over the same interval."""
    first: tuple[float, int] | None = None
    cpu_first: float | None = None
    others = others or {}
    others_first: dict[str, float | None] = {}
    last_progress: tuple[float, int] | None = None
    max_stall = 0.0
    deadline = time.perf_counter() + timeout
    done = 0
    while time.perf_counter() < deadline:
        try:
            done = await committed(admin, group, topic) - base
        except Exception:  # the group may not exist yet
            done = 0
        now = time.perf_counter()
        if first is not None and last_progress is not None:
            if done > last_progress[1]:
                max_stall = max(max_stall, now - last_progress[0])
                last_progress = (now, done)
        elif done > 0:
            last_progress = (now, done)
        if first is None and done > 0:
            first, cpu_first = (now, done), cpu_seconds(pid)
            others_first = {k: cpu_seconds(v) for k, v in others.items()}
        if first is not None and done >= n:
            elapsed = now - first[0]
            cpu_used = (cpu_seconds(pid) or 0) - (cpu_first or 0)
            measured = max(1, n - first[1])
            return {"events": n, "measured_events": n - first[1], "elapsed_s": round(elapsed, 2),
                    "events_per_s": round((n - first[1]) / elapsed, 1) if elapsed > 0 else None,
                    "consumer_cpu_s": round(cpu_used, 2), "longest_stall_s": round(max_stall, 2),
                    "consumer_cpu_ms_per_event": round(1000 * cpu_used / measured, 3),
                    **{f"{k}_cpu_ms_per_event": round(1000 * ((cpu_seconds(v) or 0) - (others_first[k] or 0))
                                                      / measured, 3) for k, v in others.items()}}
        await asyncio.sleep(0.05)
    return {"events": n, "committed": done, "timeout_s": timeout, "events_per_s": None}


class BarePipeline:
    def __init__(self, stack_env: dict[str, str], logs: Path, topic: str) -> None:
        self.group = unique("bench-bare-")
        self.database = unique("bench_bare_")
        self.topic = topic
        self.process = ServiceProcess.python_module(
            "bare", "bench.bare_pipeline", log_path=logs / "bare.log", cwd=ROOT,
            env={**stack_env, "BENCH_BARE_TOPIC": topic, "BENCH_BARE_GROUP": self.group,
                 "BENCH_BARE_DATABASE": self.database})

    def start(self) -> None:
        self.process.start()
        self.process.wait_for_output("bare pipeline ready", timeout=60)

    def stop(self) -> None:
        self.process.terminate(timeout=15)


@dataclass
class Target:
    name: str
    topic: str
    group: str
    collection: Any
    gateway: str | None
    pid: int | None


async def rate_phase(producer: Producer, target: Target, rate: float, duration: float, seed: int) -> dict[str, Any]:
    envelopes = contact_events(max(1, int(rate * duration)), seed)
    published: dict[str, float] = {}
    poller = StoredPoller(target.collection, published)
    probe = GatewayProbe(target.gateway, published) if target.gateway else None

    def on_send(envelope: Envelope) -> None:
        poller.expect(envelope)
        if probe is not None:
            probe.maybe_sample(envelope)

    done = asyncio.Event()
    polling = asyncio.create_task(poller.run(done))
    cpu_before = cpu_seconds(target.pid)
    started = time.perf_counter()
    achieved = await producer.paced(envelopes, target.topic, rate, published, on_send)
    done.set()
    unconfirmed = await polling
    cpu_used = (cpu_seconds(target.pid) or 0) - (cpu_before or 0)
    wall = time.perf_counter() - started
    if probe is not None:
        await probe.finish()
    checked = await verify(target.collection, envelopes)
    result: dict[str, Any] = {
        "target": target.name, "rate": rate, "achieved_rate": round(achieved, 1), "events": len(envelopes),
        "stored": summary_ms(poller.latencies), "unconfirmed_after_60s": unconfirmed,
        "poll_cycle": summary_ms(poller.cycles), "consumer_cpu_share": round(cpu_used / wall, 2),
        **{k: checked[k] for k in ("lost", "duplicated")},
    }
    if probe is not None:
        result["visible"] = summary_ms(probe.latencies) | {"timeouts": probe.timeouts}
    return result


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
                     profile: Path | None = None) -> dict[str, Any]:
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
                for n, rate in enumerate(phases):
                    for target in targets:
                        log(f"ingest: {rate} events/s for {duration:.0f} s into the {target.name} pipeline")
                        phase = await rate_phase(producer, target, rate, duration, seed + 100 + n)
                        phase["half_of_sustained"] = rate == half
                        result["rates"].append(phase)
                        log(f"ingest: {phase}")
    finally:
        stop_suite()
        bare.stop()
        await admin.close()
        await client.close()
    return result


def _suite_group(service: Service) -> str:
    prefix = service.process.env["IC_INTERACTIONS_CONSUMER_GROUP_PREFIX"]
    return f"{prefix}interactions.contacts"


def _lost_dup(checked: dict[str, int]) -> dict[str, int]:
    return {"lost": checked["lost"], "duplicated": checked["duplicated"], "records": checked["records"]}
