"""Ingest latency at fixed rates (bench/ingest.py): one pipeline at a time, publish->stored per event, and the
figures at half the sustained rate as median and spread over the repetitions."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from icsuite_contracts.cloudevents import Envelope

from .common import cpu_seconds, summary_ms
from .ingest_parts import GatewayProbe, Producer, StoredPoller, contact_events, verify
from .stats import ratios, spread


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


def half_latency(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """p99 publish->stored at half the sustained rate: suite, bare and suite / bare per repetition (in order)."""
    half = [p for p in phases if p.get("half_of_sustained")]
    suite = [p["stored"]["p99_ms"] for p in half if p["target"] == "suite"]
    bare = [p["stored"]["p99_ms"] for p in half if p["target"] == "bare"]
    return {"suite_p99_ms": spread(suite, 1), "bare_p99_ms": spread(bare, 1),
            "ratio": spread(ratios(suite, bare) if len(suite) == len(bare) else [])}
