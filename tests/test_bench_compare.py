"""The before/after comparison: which figures it reads from either harness, and that the alerts stream measured
by one harness counts an alert that never came as the timeout (no I/O; nothing is measured here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bench package lives at the repository root
from bench.alerts_versus import TIMEOUT_S, StreamReader, figures  # noqa: E402
from bench.compare import figures_of, summary  # noqa: E402

pytestmark = pytest.mark.unit


def test_an_alert_that_never_arrived_counts_as_the_timeout_not_as_fast() -> None:
    reader = StreamReader("http://unused", "agent-1")
    sent = {f"c{i}": 100.0 for i in range(100)}
    for i in range(98):
        reader.first[f"c{i}"] = 100.010  # 10 ms each
        reader.alerts[f"c{i}"] = 15
    result = figures(reader, sent)
    assert result["missing"] == 2
    assert result["p50_ms"] == pytest.approx(10.0, abs=0.1)
    assert result["p99_ms"] == TIMEOUT_S * 1000  # two of a hundred missing: the 99th percentile is one of them
    assert result["alerts_per_event"] == pytest.approx(98 * 15 / 100)


def test_compare_reads_both_harnesses_alerts_and_the_one_harness_figures_side_by_side() -> None:
    november = {"alerts": {"event_to_stream": {"p99_ms": 58.0}},
                "claims": {"levels": [{"agents": 10, "claims_per_s": 250.0, "double_assignments": 0}]}}
    december = {"alerts": {"stream": {"suite_p99_ms": {"median": 3876.3}}},
                "claims": {"levels": [{"agents": 10, "suite": {"median": 300.0}, "double_assignments": 1}]}}
    for results, p99 in ((november, 120.0), (december, 110.0)):
        results["alerts_versus"] = {"one_at_a_time": {"p99_ms": p99, "missing": 0, "alerts_per_event": 15.0},
                                    "at_rate": {"p99_ms": p99 * 10, "missing": 3, "alerts_per_event": 15.0}}
    before, after = figures_of(november), figures_of(december)
    assert before["alerts event->stream p99 ms"] == 58.0 and after["alerts event->stream p99 ms"] == 3876.3
    assert before["alerts p99 ms, one event at a time, one harness"] == 120.0
    assert after["alerts p99 ms, at 100 events/s, one harness"] == 1100.0
    assert after["alerts missing, at 100 events/s, one harness"] == 3
    assert before["claims/s at  10 agents"] == 250.0 and after["double assignments at  10 agents"] == 1
    table = summary([before, {**before, "claims/s at  10 agents": 350.0}])
    assert table["claims/s at  10 agents"] == {"median": 300.0, "min": 250.0, "max": 350.0, "n": 2}


def test_a_figure_is_worse_beyond_the_spread_only_in_its_own_direction_and_past_the_wider_range() -> None:
    from bench.compare import worse_beyond_spread

    def side(median: float, low: float, high: float) -> dict[str, float]:
        return {"median": median, "min": low, "max": high, "n": 2}

    claims = "claims/s at  10 agents"
    assert worse_beyond_spread(claims, side(300, 280, 320), side(270, 260, 280)).startswith("no")  # 30 <= 40
    assert worse_beyond_spread(claims, side(300, 295, 305), side(270, 265, 275)).startswith("YES")  # 30 > 10
    assert worse_beyond_spread(claims, side(300, 295, 305), side(400, 395, 405)).startswith("no")  # better
    p99 = "alerts p99 ms, at 100 events/s, one harness"
    assert worse_beyond_spread(p99, side(100, 90, 110), side(200, 190, 210)).startswith("YES")  # higher is worse
    assert worse_beyond_spread(p99, side(200, 190, 210), side(100, 90, 110)).startswith("no")
    assert worse_beyond_spread("alerts per event, at 100 events/s, one harness", side(15, 15, 15),
                               side(14, 14, 14)) == ""
