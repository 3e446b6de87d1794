"""The parts of the ingest benchmark (bench/ingest.py): events, the producer, the stored-time poller, the gateway
probe, the checks of lost and duplicated effects, drain rates from committed offsets, the bare pipeline process."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from icsuite_chassis.testing import bearer
from icsuite_contracts.cloudevents import Envelope, to_kafka
from icsuite_devstack.processes import ServiceProcess
from icsuite_interactions.domain.ids import field_key, interaction_id_for_contact
from icsuite_tools.scenarios import ScenarioGenerator

from .common import ROOT, cpu_seconds, unique

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
