"""The targets of issue 22: every figure a ratio to a baseline measured in the same run, PASS or MISS.

Each row: measure, figure (median with its spread over the run's repetitions), baseline, target, verdict.
A section that did not run or failed gives "n/a" with the reason, never a figure from another run.
"""

from __future__ import annotations

from typing import Any

from .stats import fmt_spread, spread, verdict

Row = tuple[str, str, str, str, str]
RESETS = {"ReadError", "WriteError", "RemoteProtocolError", "ConnectError"}
"""httpx's names for a connection the server closed or refused; a ReadTimeout is a slow answer, not a reset."""


def _missing(section: dict[str, Any] | None) -> str | None:
    if section is None:
        return "not run"
    if "skipped" in section:
        return str(section["skipped"])
    return f"failed: {section['error'][:300]}" if "error" in section else None


def _med(s: dict[str, Any] | None) -> float | None:
    return None if not s else s.get("median")


def ingest_rows(ingest: dict[str, Any] | None) -> list[Row]:
    if (why := _missing(ingest)) is not None:
        return [("Ingest: suite / bare events/s", why, "", "≥ 0.90", "n/a")]
    assert ingest is not None
    ratio = {"median": ingest.get("ratio"), "min": ingest.get("ratio_min"), "max": ingest.get("ratio_max"),
             "n": len(ingest.get("ratios") or [])}
    rows: list[Row] = [("Ingest: suite / bare events/s (interleaved pairs)",
                        f"{fmt_spread(ratio)}; suite {_rate(ingest, 'suite_drain')}", f"bare {_rate(ingest, 'bare_drain')}",
                        "≥ 0.90", verdict(ratio["median"], at_least=0.90))]
    half = ingest.get("half_latency") or {}
    rows.append((f"Ingest: p99 publish→stored at half the sustained rate ({ingest.get('half_rate') or '–'} events/s), "
                 "suite / bare", f"{fmt_spread(half.get('ratio'))}; suite p99 {fmt_spread(half.get('suite_p99_ms'), 1, ' ms')}",
                 f"bare p99 {fmt_spread(half.get('bare_p99_ms'), 1, ' ms')}", "≤ 1.5",
                 verdict(_med(half.get("ratio")), at_most=1.5)))
    lost = sum(ingest[k].get("lost", 0) for k in ("suite_drain", "bare_drain")) + sum(
        r.get("lost", 0) for r in ingest.get("rates", []))
    dup = sum(ingest[k].get("duplicated", 0) for k in ("suite_drain", "bare_drain")) + sum(
        r.get("duplicated", 0) for r in ingest.get("rates", []))
    rows.append(("Ingest: lost / duplicated effects (every phase)", f"{lost} / {dup}", "", "0 / 0",
                 "PASS" if lost == 0 and dup == 0 else "MISS"))
    return rows


def _rate(ingest: dict[str, Any], key: str) -> str:
    values = ingest.get(key, {}).get("events_per_s_all") or []
    return fmt_spread(spread(values, 0), 0, " ev/s")


def claims_rows(claims: dict[str, Any] | None) -> list[Row]:
    if (why := _missing(claims)) is not None:
        return [("Claims: claim-next / baseline claims/s", why, "", "≥ 0.8, 0 doubles", "n/a")]
    assert claims is not None
    rows: list[Row] = []
    routed = " with skills (half the agents have the items' skill)"
    for lv, label in [*((lv, " with skills (all runs)" if claims.get("skills") else "") for lv in claims["levels"]),
                      *((lv, routed) for lv in claims.get("skill_levels") or [])]:
        ratio = _med(lv["ratio"])
        ok = verdict(ratio, at_least=0.8)
        wrong = lv["double_assignments"] + lv["owner_mismatch"] + lv.get("unqualified_claims", 0)
        if ok == "PASS" and wrong:
            ok = "MISS"
        failed = f"; {len(lv['failures'])} failed run(s)" if lv.get("failures") else ""
        unqualified = f", {lv.get('unqualified_claims', 0)} to agents without the skill" if label else ""
        rows.append((f"Claims{label} at {lv['agents']} agents: claim-next / baseline claims/s",
                     f"{fmt_spread(lv['ratio'])}; {fmt_spread(lv['suite'], 0, '/s')}, "
                     f"{lv['double_assignments']} doubles{unqualified}{failed}",
                     f"baseline {fmt_spread(lv['baseline'], 0, '/s')}", "≥ 0.8, 0 doubles", ok))
    check = claims.get("shared_pool_check")
    if check is not None:
        errors = check.get("errors") or {}
        resets = sum(v for k, v in errors.items() if str(k) in RESETS)
        figure = check.get("error") or (f"{resets} resets; all errors {errors or 'none'}; "
                                        f"{check.get('claims_per_s')} claims/s, p99 {check.get('p99_ms')} ms")
        rows.append((f"Claims: {check.get('agents')} agents on one shared keep-alive pool, connection resets",
                     figure, "", "0", "PASS" if "error" not in check and resets == 0 else "MISS"))
    return rows


def identity_rows(identity: dict[str, Any] | None) -> list[Row]:
    if (why := _missing(identity)) is not None:
        return [("Identification: gateway / driver lookup p99", why, "", "≤ 3", "n/a")]
    assert identity is not None
    rows: list[Row] = []
    for size in identity["sizes"]:
        for kind in ("phone", "name"):
            k = size.get(kind)
            if not k:
                continue
            note = "" if size["accounts"] >= 1_000_000 else " (target at 1M: make bench BENCH_FULL=1)"
            rows.append((f"Identification at {size['accounts']:,} accounts, {kind}"
                         f"{' (fuzzy)' if kind == 'name' else ''}: gateway / driver p99",
                         f"{fmt_spread(k['ratio'])}; gateway {fmt_spread(k['gateway_p99_ms'], 2, ' ms')}",
                         f"driver {fmt_spread(k['driver_p99_ms'], 2, ' ms')}", "≤ 3" + note,
                         verdict(_med(k["ratio"]), at_most=3.0)))
    return rows


def alerts_rows(alerts: dict[str, Any] | None) -> list[Row]:
    if (why := _missing(alerts)) is not None:
        return [("Alerts", why, "", "", "n/a")]
    assert alerts is not None
    budget = alerts.get("budget") or {}
    mixes = budget.get("mixes") or {"usual_mix": budget}
    rows: list[Row] = []
    for name, mix in mixes.items():
        label = "" if name == "usual_mix" else f" ({name.replace('_', ' ')}: every condition builds or iterates)"
        rows.append((f"Alerts: evaluations/s with the evaluation budget / without{label}",
                     (f"{fmt_spread(mix['ratio'])}; with {fmt_spread(mix['with_per_s'], 0, '/s')}"
                      if mix.get("ratio") else budget.get("why", "n/a")),
                     f"without {fmt_spread(mix.get('without_per_s'), 0, '/s')}" if mix.get("ratio") else "",
                     "≥ 0.8", verdict(_med(mix.get("ratio")), at_least=0.8)))
    stream = alerts.get("stream") or {}
    suite = stream.get("suite_p99_ms")
    rows.append((f"Alerts: event → stream p99 at {stream.get('rate', '–')} events/s", fmt_spread(suite, 1, " ms"),
                 "", "< 100 ms", verdict(_med(suite), below=100)))
    rows.append(("Alerts: event → stream p99, suite / bare forwarding consumer", fmt_spread(stream.get("ratio")),
                 f"bare p99 {fmt_spread(stream.get('bare_p99_ms'), 1, ' ms')}", "≤ 2", verdict(_med(stream.get("ratio")),
                                                                                              at_most=2.0)))
    absence = alerts.get("absence") or {}
    late = absence.get("late_p99_ms")
    rows.append(("Alerts: absence alert fired after its deadline, p99", fmt_spread(late, 0, " ms")
                 if late else absence.get("error", "n/a"), "the deadline", "≤ 1,000 ms",
                 verdict(_med(late), at_most=1000)))
    return rows


def desktop_rows(desktop: dict[str, Any] | None) -> list[Row]:
    if (why := _missing(desktop)) is not None:
        return [("Desktop: contact event → caller shown, p99", why, "", "< 1,000 ms", "n/a")]
    assert desktop is not None
    shown = desktop.get("caller_shown_p99_ms")
    return [("Desktop: contact event → caller shown in Chromium, p99", fmt_spread(shown, 0, " ms"), "", "< 1,000 ms",
             verdict(_med(shown), below=1000))]


def targets(results: dict[str, Any]) -> list[Row]:
    return [*ingest_rows(results.get("ingest")), *claims_rows(results.get("claims")),
            *identity_rows(results.get("identity")), *alerts_rows(results.get("alerts")),
            *desktop_rows(results.get("desktop"))]
