"""The channel simulator: contact traffic at a chosen rate, as the CTI and web channels publish it.

The importable core is :func:`simulate`; benchmarks and failure tests call it directly and compare the
:class:`Summary` (exact counts per event type, every contact and request id) with what the services did.

```python
summary = await simulate(bootstrap, rate=20, duration_s=60, count=None, seed=1)
summary.per_type["ic.contact.started.v1"], summary.contact_ids, summary.achieved_rate
```
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from icsuite_contracts.cloudevents import Envelope

from . import demo
from .publisher import KafkaPublisher, Publisher
from .scenarios import Scenario, ScenarioGenerator, random_run_id

OnPublished = Callable[[Envelope], None]
OnProgress = Callable[["Summary"], None]


@dataclass
class Summary:
    """What a simulation published; counts are of events the broker acknowledged."""

    run_id: str
    rate: float | None
    contacts: int = 0
    callbacks: int = 0
    events: int = 0
    failed: int = 0
    known: int = 0
    unknown: int = 0
    per_type: Counter[str] = field(default_factory=Counter)
    per_kind: Counter[str] = field(default_factory=Counter)
    contact_ids: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def scenarios(self) -> int:
        return self.contacts + self.callbacks

    @property
    def achieved_rate(self) -> float:
        """Contacts and callback requests per second."""
        return self.scenarios / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "rate": self.rate, "contacts": self.contacts, "callbacks": self.callbacks,
            "events": self.events, "failed": self.failed, "known": self.known, "unknown": self.unknown,
            "per_type": dict(sorted(self.per_type.items())), "per_kind": dict(sorted(self.per_kind.items())),
            "elapsed_s": round(self.elapsed_s, 3), "achieved_rate": round(self.achieved_rate, 2),
            "events_per_s": round(self.events_per_s, 2), "contact_ids": self.contact_ids,
            "request_ids": self.request_ids,
        }


class _Run:
    """One simulation's bookkeeping: delivery callbacks, pending futures, the summary."""

    def __init__(self, summary: Summary, on_published: OnPublished | None) -> None:
        self.summary = summary
        self.on_published = on_published
        self.pending: set[asyncio.Future[Any]] = set()
        self.errors: list[BaseException] = []

    def delivered(self, envelope: Envelope, future: asyncio.Future[Any]) -> None:
        self.pending.discard(future)
        if future.cancelled() or future.exception() is not None:
            self.summary.failed += 1
            if not future.cancelled():
                self.errors.append(future.exception())  # type: ignore[arg-type]
            return
        self.summary.events += 1
        self.summary.per_type[envelope.type] += 1
        if self.on_published is not None:
            self.on_published(envelope)

    async def publish(self, publisher: Publisher, scenario: Scenario) -> None:
        for envelope in scenario.envelopes:
            future = await publisher.send(envelope)
            self.pending.add(future)
            future.add_done_callback(lambda f, e=envelope: self.delivered(e, f))
        s = self.summary
        s.per_kind[scenario.kind] += 1
        if scenario.kind == "callback":
            s.callbacks += 1
            s.request_ids.append(scenario.aggregate_id)
        else:
            s.contacts += 1
            s.contact_ids.append(scenario.aggregate_id)
        if scenario.known:
            s.known += 1
        else:
            s.unknown += 1

    async def drain(self) -> None:
        if self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)


async def _ticker(run: _Run, started: float, on_progress: OnProgress, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        run.summary.elapsed_s = time.monotonic() - started
        on_progress(run.summary)


async def run_simulation(
    publisher: Publisher,
    generator: ScenarioGenerator,
    *,
    rate: float | None,
    duration_s: float | None = None,
    count: int | None = None,
    on_published: OnPublished | None = None,
    on_progress: OnProgress | None = None,
    progress_interval_s: float = 1.0,
    stop: asyncio.Event | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Summary:
    """Publish ``generator``'s scenarios through ``publisher`` (any :class:`Publisher`, e.g. a fake)."""
    paced = rate is not None and math.isfinite(rate) and rate > 0
    summary = Summary(run_id=generator.run_id, rate=rate if paced else None)
    run = _Run(summary, on_published)
    stop = stop or asyncio.Event()
    started = time.monotonic()
    ticker = asyncio.create_task(_ticker(run, started, on_progress, progress_interval_s)) if on_progress else None
    try:
        index = 0
        while not stop.is_set() and (count is None or index < count):
            offset = index / rate if paced else time.monotonic() - started  # type: ignore[operator]
            if duration_s is not None and offset >= duration_s:
                break
            if paced:
                delay = started + offset - time.monotonic()
                if delay > 0:
                    try:
                        await asyncio.wait_for(stop.wait(), timeout=delay)
                        break
                    except TimeoutError:
                        pass
            elif index % 200 == 0:
                await asyncio.sleep(0)  # let deliveries and Ctrl-C through at full speed
            await run.publish(publisher, generator.next(clock()))
            index += 1
        await run.drain()
    finally:
        if ticker is not None:
            ticker.cancel()
        summary.elapsed_s = time.monotonic() - started
    if on_progress is not None:
        on_progress(summary)
    return summary


async def simulate(
    bootstrap: str,
    *,
    rate: float | None,
    duration_s: float | None = None,
    count: int | None = None,
    mix: Mapping[str, float] | None = None,
    known_numbers: Sequence[str] | None = None,
    known_emails: Sequence[str] | None = None,
    known_ratio: float = 0.7,
    seed: int = 1,
    run_id: str | None = None,
    agents: Sequence[str] | None = None,
    on_published: OnPublished | None = None,
    on_progress: OnProgress | None = None,
    stop: asyncio.Event | None = None,
) -> Summary:
    """Publish simulated contacts and callback requests to the Kafka at ``bootstrap``.

    ``rate``: scenarios (contacts plus callback requests) per second; ``None`` or ``inf`` for as fast
    as the broker takes them. Ends after ``duration_s`` seconds or ``count`` scenarios, whichever comes
    first, or when ``stop`` is set (at least one of them should be given). ``known_numbers`` and
    ``known_emails`` default to the demo data set's; ``known_ratio`` of the callers use one of them.
    ``run_id`` prefixes every id (``sim-<run_id>-000001``); by default a fresh one per run, so that
    runs never collide. ``agents`` handle the calls (default ``a-1`` to ``a-20``). ``on_published`` is
    called with every acknowledged envelope, ``on_progress`` about once a second with the running
    :class:`Summary`.
    """
    dataset = demo.demo_dataset()
    numbers = dataset.known_numbers if known_numbers is None else list(known_numbers)
    generator = ScenarioGenerator(
        seed=seed, mix=mix, known_numbers=numbers,
        known_emails=dataset.known_emails if known_emails is None else known_emails,
        known_ratio=known_ratio, run_id=run_id or random_run_id(),
        accounts_by_number={p: a for a, phones in dataset.phones_by_account.items() for p in phones},
        agents=list(agents) if agents else 20,
    )
    async with KafkaPublisher(bootstrap) as publisher:
        return await run_simulation(publisher, generator, rate=rate, duration_s=duration_s, count=count,
                                    on_published=on_published, on_progress=on_progress, stop=stop)
