"""The MongoDB-wire server's heap for a bench run: sized from the memory per account, refused with a reason
when the machine does not have it (instead of a heap that the GC thrashes in)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bench package lives at the repository root
from bench import memory  # noqa: E402
from bench.run import mongo_heap, parse_args  # noqa: E402

pytestmark = pytest.mark.unit


def test_the_default_run_keeps_the_default_heap() -> None:
    assert memory.mongo_heap_gb([100_000]) == memory.OTHER_SECTIONS_GB
    assert memory.mongo_heap_gb([]) == memory.OTHER_SECTIONS_GB


def test_a_million_accounts_get_a_heap_their_live_data_fills_to_at_most_the_live_share() -> None:
    heap = memory.mongo_heap_gb([100_000, 1_000_000])
    live = 1_000_000 * memory.BYTES_PER_ACCOUNT / memory.GB
    assert live / heap <= memory.LIVE_SHARE
    assert heap > 6  # the heap the 1M run filled


def test_a_machine_without_the_memory_gets_the_reason_and_a_way_out() -> None:
    heap = memory.mongo_heap_gb([1_000_000])
    reason = memory.shortfall(heap, [1_000_000], available=4.0)
    assert reason is not None and "1,000,000 accounts" in reason and "--accounts" in reason
    assert memory.shortfall(heap, [1_000_000], available=memory.needed_gb(heap, [1_000_000])) is None
    assert memory.shortfall(heap, [1_000_000], available=None) is None  # no /proc/meminfo: not judged


def test_available_memory_is_read_from_meminfo(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24683520 kB\nMemAvailable:    2097152 kB\n")
    assert memory.available_gb(meminfo) == 2.0
    assert memory.available_gb(tmp_path / "missing") is None


def test_the_run_refuses_to_start_when_the_memory_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IC_BENCH_MONGO_HEAP", raising=False)
    monkeypatch.setattr(memory, "available_gb", lambda: 1.0)
    with pytest.raises(SystemExit):
        mongo_heap(parse_args(["--only", "identity", "--full"]))
    monkeypatch.setenv("IC_BENCH_MONGO_HEAP", "5g")  # set by hand: taken as it is
    assert mongo_heap(parse_args(["--only", "identity", "--full"])) == "5g"
