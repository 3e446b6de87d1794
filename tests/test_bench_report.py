"""The benchmark report: medians with their spread, every target a ratio to its baseline with PASS or MISS,
n/a with the reason for a section that did not run or failed (no I/O; no figure is measured here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the bench package lives at the repository root
from bench.report import markdown  # noqa: E402
from bench.stats import fmt_spread, ratios, spread, verdict  # noqa: E402
from bench.targets import targets  # noqa: E402

pytestmark = pytest.mark.unit


def test_spread_is_the_median_with_min_and_max_leaving_out_missing_runs() -> None:
    s = spread([3.0, None, 1.0, 2.0])
    assert (s["median"], s["min"], s["max"], s["n"]) == (2.0, 1.0, 3.0, 3)
    assert fmt_spread(s) == "2.00 (1.00–3.00, n=3)"
    assert fmt_spread(spread([])) == "–"
    assert ratios([2.0, 1.0, None], [1.0, 0.0, 1.0]) == [2.0, None, None]
    assert verdict(0.9, at_least=0.9) == "PASS" and verdict(0.89, at_least=0.9) == "MISS"
    assert verdict(None, at_most=3) == "n/a" and verdict(100.0, below=100) == "MISS"


def _level(agents: int, suite: list[float], baseline: list[float], doubles: int = 0) -> dict:
    return {"agents": agents, "suite": spread(suite), "baseline": spread(baseline),
            "ratio": spread(ratios(suite, baseline)), "double_assignments": doubles, "owner_mismatch": 0,
            "failures": [], "runs": []}


def test_claims_pass_only_at_the_ratio_and_with_no_double() -> None:
    rows = targets({"claims": {"inbox": 10, "levels": [_level(10, [90, 85, 80], [100, 100, 100]),
                                                       _level(50, [70, 75, 79], [100, 100, 100]),
                                                       _level(200, [90, 90, 90], [100, 100, 100], doubles=1)]}})
    verdicts = {r[0]: r[4] for r in rows if r[0].startswith("Claims at")}
    assert list(verdicts.values()) == ["PASS", "MISS", "MISS"]
    assert any(r[1].startswith("0.85 (0.80–0.90, n=3)") for r in rows)


def test_the_levels_with_skills_are_rows_of_their_own_and_an_unqualified_claim_misses() -> None:
    unqualified = {**_level(50, [90, 90, 90], [100, 100, 100]), "unqualified_claims": 2}
    results = {"machine": {"cpus": 2, "commit": "abc1234"}, "load_average": {"before": 0.5, "after": 1.5},
               "claims": {"inbox": 10, "client_processes": 2, "levels": [_level(10, [90, 85, 80], [100, 100, 100])],
                          "skill_levels": [{**_level(10, [95, 90, 85], [100, 100, 100]), "unqualified_claims": 0},
                                           unqualified]}}
    rows = {r[0]: r for r in targets(results)}
    routed = "Claims with skills (half the agents have the items' skill) at {} agents: claim-next / baseline claims/s"
    assert rows["Claims at 10 agents: claim-next / baseline claims/s"][4] == "PASS"
    assert rows[routed.format(10)][4] == "PASS" and "0 to agents without the skill" in rows[routed.format(10)][1]
    assert rows[routed.format(50)][4] == "MISS"
    assert "Rows marked (skills)" in markdown(results)


def test_sections_not_run_or_failed_are_na_with_the_reason_and_the_report_renders() -> None:
    results = {"machine": {"cpus": 2, "commit": "abc1234"}, "load_average": {"before": 0.5, "after": 1.5},
               "claims": {"error": "RuntimeError: boom"},
               "identity": {"rounds": 3, "lookups": 10, "sizes": [{"accounts": 1000, "phone": {
                   "driver_p50_ms": spread([1.0]), "driver_p99_ms": spread([1.0, 2.0, 1.5]),
                   "gateway_p50_ms": spread([2.0]), "gateway_p99_ms": spread([3.0, 4.0, 5.0]),
                   "ratio": spread([3.0, 2.0, 3.3])}}]}}
    rows = {r[0]: r for r in targets(results)}
    assert rows["Claims: claim-next / baseline claims/s"][1] == "failed: RuntimeError: boom"
    assert rows["Claims: claim-next / baseline claims/s"][4] == "n/a"
    assert rows["Ingest: suite / bare events/s"][1] == "not run"
    phone = rows["Identification at 1,000 accounts, phone: gateway / driver p99"]
    assert phone[4] == "PASS" and "1M" in phone[3]
    table = markdown(results)
    assert "commit abc1234" in table.lower() and "before 0.5, after 1.5" in table
    assert "| Desktop: contact event → caller shown, p99 | not run |" in table


def test_the_budget_comparison_becomes_a_ratio_target_per_mix(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    import bench
    from bench import alerts

    def comparison(rules: int, events: int, rounds: int) -> dict:
        mix = {"rules": rules, "rounds": rounds, "budget_on_per_s": 90, "budget_off_per_s": 100,
               "spread_on_per_s": [80, 95], "spread_off_per_s": [99, 101], "ratio_on_vs_off": 0.9}
        return {"usual_mix": mix, "building_mix": {**mix, "ratio_on_vs_off": 0.7}, "target_ratio": 0.8}

    fake = types.ModuleType("bench.alerts_budget")
    fake.budget_comparison = comparison  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench.alerts_budget", fake)
    monkeypatch.setattr(bench, "alerts_budget", fake, raising=False)
    budget = alerts.budget(10, 10, 3)
    rows = [r for r in targets({"alerts": {"budget": budget}}) if "budget" in r[0]]
    assert [r[4] for r in rows] == ["PASS", "MISS"]
    assert rows[0][1].startswith("0.90") and "with 90/s (80/s–95/s, n=3)" in rows[0][1]


def test_the_desktop_section_repeats_a_single_run_measure_into_a_spread(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from bench.run import parse_args, sections_of, settings

    p99s = iter([900.0, 1200.0, 800.0])

    async def run_desktop(stack_env: dict, logs: Path, *, contacts: int, rate: float = 10.0) -> dict:
        return {"contact_to_page": {"not_shown": 0, "caller_shown": {"p99_ms": next(p99s)},
                                    "bare_consumer": {"p99_ms": 5.0}}}

    fake = types.ModuleType("bench.desktop")
    fake.run_desktop = run_desktop  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bench.desktop", fake)
    args = parse_args(["--only", "desktop"])
    section = sections_of(args, settings(args), {}, Path("/tmp"), None)["desktop"]()
    assert section["caller_shown_p99_ms"]["median"] == 900.0 and section["caller_shown_p99_ms"]["n"] == 3
    row = [r for r in targets({"desktop": section}) if r[0].startswith("Desktop")][0]
    assert row[4] == "PASS" and "800 ms–1,200 ms" in row[1]


def test_the_scaling_verdict_names_where_the_figure_stops_and_whether_the_cores_were_busy() -> None:
    from bench.scaling import verdict as scaling_verdict

    def row(n: int, rate: float, busy: float) -> dict:
        return {"replicas": n, "events_per_s": spread([rate]), "machine_busy_share": busy}

    said = scaling_verdict([row(1, 100, 0.9), row(2, 170, 1.0), row(3, 175, 1.0)], 2)
    assert "stops rising at 3 replicas" in said and "the machine, not the design" in said
    said = scaling_verdict([row(1, 100, 0.3), row(2, 200, 0.5), row(3, 300, 0.6)], 2)
    assert "still rises at 3" in said and "limit lies elsewhere" in said
