"""The simulator's core on a fake publisher: exact counts, pacing, failures, stopping."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest
from icsuite_contracts.cloudevents import Envelope
from icsuite_tools.scenarios import ScenarioGenerator
from icsuite_tools.simulator import Summary, run_simulation

pytestmark = pytest.mark.unit


class FakePublisher:
    """Acknowledges every envelope on the next loop turn; ``fail`` names event types to refuse."""

    def __init__(self, fail: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.sent: list[Envelope] = []
        self.fail = fail

    async def send(self, envelope: Envelope) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.sent.append(envelope)
        if envelope.type in self.fail:
            asyncio.get_running_loop().call_soon(future.set_exception, RuntimeError("broker said no"))
        else:
            asyncio.get_running_loop().call_soon(future.set_result, None)
        return future


def gen(seed: int = 1) -> ScenarioGenerator:
    return ScenarioGenerator(seed=seed, known_numbers=["+4930123456", "+4940111222"],
                             known_emails=["erika@example.org"], run_id=f"u{seed}")


async def test_summary_counts_equal_what_was_published() -> None:
    publisher, seen = FakePublisher(), []
    summary = await run_simulation(publisher, gen(), rate=None, count=300, on_published=seen.append)
    assert summary.scenarios == 300 and summary.failed == 0
    assert summary.per_type == Counter(e.type for e in publisher.sent)
    assert summary.events == len(publisher.sent) == len(seen)
    contacts = {e.data.contact_id for e in publisher.sent if e.topic == "ic.contacts.v1"}  # type: ignore[attr-defined]
    assert set(summary.contact_ids) == contacts and len(summary.contact_ids) == summary.contacts
    requests = [e.key for e in publisher.sent if e.topic == "ic.callback-requests.v1"]
    assert summary.request_ids == requests and summary.callbacks == summary.per_kind["callback"]
    assert summary.known + summary.unknown == 300
    assert summary.per_type["ic.contact.started.v1"] == summary.per_type["ic.contact.ended.v1"] == summary.contacts


async def test_the_same_seed_publishes_the_same_events() -> None:
    first, second = FakePublisher(), FakePublisher()
    await run_simulation(first, gen(5), rate=None, count=40)
    await run_simulation(second, gen(5), rate=None, count=40)
    assert [e.id for e in first.sent] == [e.id for e in second.sent]


async def test_a_fixed_rate_is_paced() -> None:
    started = time.monotonic()
    summary = await run_simulation(FakePublisher(), gen(), rate=40, duration_s=0.5)
    elapsed = time.monotonic() - started
    assert summary.scenarios == 20  # 0.5 s at 40 per second, the first at once
    assert 0.45 <= elapsed < 1.5
    assert 25 <= summary.achieved_rate <= 45


async def test_count_wins_over_duration_and_progress_is_reported() -> None:
    reports: list[Summary] = []
    summary = await run_simulation(FakePublisher(), gen(), rate=100, duration_s=10, count=15,
                                   on_progress=reports.append, progress_interval_s=0.05)
    assert summary.scenarios == 15 and summary.elapsed_s < 1
    assert reports and reports[-1] is summary


async def test_failed_deliveries_are_counted_not_hidden() -> None:
    publisher = FakePublisher(fail={"ic.contact.ended.v1"})
    summary = await run_simulation(publisher, gen(), rate=None, count=50)
    assert summary.failed == summary.contacts > 0
    assert "ic.contact.ended.v1" not in summary.per_type
    assert summary.events + summary.failed == len(publisher.sent)


async def test_stop_ends_an_open_ended_run() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.3, stop.set)
    summary = await run_simulation(FakePublisher(), gen(), rate=20, stop=stop)
    assert 4 <= summary.scenarios <= 8 and summary.elapsed_s < 1


def test_summary_as_dict_is_json_ready() -> None:
    summary = Summary(run_id="r", rate=5.0, contacts=2, events=6, elapsed_s=2.0)
    data = summary.as_dict()
    assert data["achieved_rate"] == 1.0 and data["events_per_s"] == 3.0 and data["run_id"] == "r"
