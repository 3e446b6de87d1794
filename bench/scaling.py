"""Scaling: the interactions service with 1, 2 and 3 replicas against one backlog, events/s for each.

Per run: a fresh database and consumer-group prefix, the groups parked at the end of their topics (so that
no replica replays what earlier sections published), the replicas started and waited for until their
contacts group is stable with all of them, then a backlog of contact events published to ``ic.contacts.v1``
(6 partitions) and the drain measured from the contacts group's committed offsets, as in the ingest section
(the publishing overlaps the start of the drain alike for every replica count). Replica counts are interleaved over the repeats (1, 2, 3, then 3, 2, 1, ...). Beside the
rate: the share of both cores busy during the drain, so the table shows where the machine stops scaling.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from icsuite_interactions.consumers import CONSUMED
from icsuite_contracts.interactions_v1 import TOPIC as INTERACTIONS_TOPIC

from .claims_clients import machine_busy
from .common import Service, log, start_service, unique
from .ingest_parts import CONTACTS_TOPIC, PARTITIONS, Producer, committed, contact_events, drain_rate
from .stats import spread


async def park_at_end(bootstrap: str, admin: AIOKafkaAdminClient, groups: dict[str, str]) -> None:
    """Commit each group's offsets at the end of its topic (``groups``: group -> topic)."""
    described = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(sorted(set(groups.values())))}
    for group, topic in groups.items():
        partitions = [TopicPartition(topic, p) for p in range(described.get(topic, 0))]
        if not partitions:
            raise RuntimeError(f"topic {topic} has no partitions: was it created?")
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.commit({tp: offset for tp, offset in ends.items()})
        finally:
            await consumer.stop()


async def stable_group(admin: AIOKafkaAdminClient, group: str, members: int, timeout: float = 120.0) -> int:
    """Wait until ``group`` is Stable with ``members`` members; the members it had at the end."""
    deadline, seen = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        for response in await admin.describe_consumer_groups([group]):
            for described in response.groups:  # (error, group, state, protocol type, protocol, members, ...)
                state, seen = described[2], len(described[5])
                if state == "Stable" and seen == members:
                    return seen
        await asyncio.sleep(0.2)
    return seen


async def one_run(stack_env: dict[str, str], logs: Path, admin: AIOKafkaAdminClient, producer: Producer,
                  replicas: int, backlog: int, seed: int) -> dict[str, Any]:
    prefix, database = unique("bench-scale-") + ".", unique("bench_scale_")
    groups = {f"{prefix}interactions.{name}": topic for name, (topic, _) in CONSUMED.items()}
    groups[f"{prefix}interactions.timeline"] = INTERACTIONS_TOPIC
    contacts_group = f"{prefix}interactions.contacts"
    await park_at_end(stack_env["KAFKA_BOOTSTRAP_SERVERS"], admin, groups)
    base = await committed(admin, contacts_group, CONTACTS_TOPIC)
    extra = {"IC_INTERACTIONS_CONSUMER_GROUP_PREFIX": prefix}
    started: list[Service] = []

    def start_one() -> None:
        started.append(start_service("interactions", stack_env, logs, database=database, extra=extra))

    try:
        # The replicas first, idle at the end of the topic, until the group is stable with all of them: the
        # local broker rebalances at once (no initial delay), so a late replica would rebalance mid-drain.
        await asyncio.gather(*(asyncio.to_thread(start_one) for _ in range(replicas)))
        members = await stable_group(admin, contacts_group, replicas)
        busy_before = machine_busy()
        await producer.flood(contact_events(backlog, seed), CONTACTS_TOPIC)
        drained = await drain_rate(admin, contacts_group, CONTACTS_TOPIC, base, backlog, None,
                                   timeout=max(120.0, backlog / 50))
        busy_after = machine_busy()
    finally:
        for service in started:
            service.stop()
    share = (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1e-9)
    return {"replicas": replicas, "events_per_s": drained.get("events_per_s"), "elapsed_s": drained.get("elapsed_s"),
            "longest_stall_s": drained.get("longest_stall_s"), "machine_busy_share": round(share, 2),
            "group_members": members,
            **({"timeout": drained} if drained.get("events_per_s") is None else {})}


def verdict(rows: list[dict[str, Any]], cpus: int) -> str:
    """Where scaling stops, in words, from the medians."""
    by = {r["replicas"]: r for r in rows if r["events_per_s"]["median"]}
    if 1 not in by or len(by) < 2:
        return "Too few runs completed to say where scaling stops."
    one = by[1]["events_per_s"]["median"]
    parts = [f"{n} replicas: {by[n]['events_per_s']['median'] / one:.2f} × one replica, both cores "
             f"{(by[n]['machine_busy_share'] or 0) * 100:.0f} % busy" for n in sorted(by) if n > 1]
    busiest = max(r["machine_busy_share"] or 0 for r in by.values())
    stops = next((n for n in sorted(by) if n > 1 and by[n]["events_per_s"]["median"]
                  < 1.15 * by[n - 1]["events_per_s"]["median"]), None) if all(n in by for n in range(1, max(by) + 1)) \
        else None
    where = (f"The figure stops rising at {stops} replicas. " if stops else
             f"The figure still rises at {max(by)} replicas. ")
    machine = (f"Both cores were up to {busiest * 100:.0f} % busy (the database, Kafka, the publisher and every "
               f"replica share {cpus} cores): ")
    cause = (machine + ("from there more replicas add processes but no CPU, so it is the machine, not the design, "
                        "that stops scaling" if stops else
                        "the replicas win CPU from the other processes, not from spare cores, so the machine, not the "
                        "design, sets where this ends") +
             " (the contacts topic has 6 partitions: up to 6 replicas share it)."
             if busiest >= 0.85 else
             f"The cores were at most {busiest * 100:.0f} % busy: the limit lies elsewhere (see the CPU per event in "
             "the ingest section).")
    return f"One replica: {one:,.0f} events/s; " + "; ".join(parts) + f". {where}{cause}"


async def run_scaling(stack_env: dict[str, str], logs: Path, *, replicas: list[int], backlog: int, repeats: int,
                      stack_pids: dict[str, int | None] | None = None) -> dict[str, Any]:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack_env["KAFKA_BOOTSTRAP_SERVERS"])
    await admin.start()
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in replicas}
    try:
        async with Producer(stack_env["KAFKA_BOOTSTRAP_SERVERS"]) as producer:
            for rep in range(repeats):
                for n in replicas if rep % 2 == 0 else replicas[::-1]:
                    log(f"scaling: run {rep + 1}/{repeats}, {n} replica(s), {backlog} events")
                    started = time.perf_counter()
                    try:
                        runs[n].append(await one_run(stack_env, logs, admin, producer, n, backlog, 500 + rep * 10 + n))
                    except Exception as exc:  # a failed run is reported, the others go on
                        runs[n].append({"replicas": n, "events_per_s": None, "error": repr(exc)})
                    log(f"scaling: {runs[n][-1]} ({time.perf_counter() - started:.0f} s)")
    finally:
        await admin.close()
    rows = [{"replicas": n, "events_per_s": spread([r["events_per_s"] for r in rs], 0),
             "per_replica": spread([r["events_per_s"] / n for r in rs if r["events_per_s"]], 0),
             "machine_busy_share": max((r["machine_busy_share"] for r in rs if "machine_busy_share" in r),
                                       default=None), "runs": rs}
            for n, rs in runs.items()]
    cpus = os.cpu_count() or 1
    return {"backlog": backlog, "partitions": PARTITIONS, "repeats": repeats, "cpus": cpus, "replicas": rows,
            "verdict": verdict(rows, cpus)}
