"""The Markdown tables of a benchmark run: the targets (met or missed) and the detail of each section."""

from __future__ import annotations

from typing import Any


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _status(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**missed**")


def _error(section: dict[str, Any] | None) -> str | None:
    if section is None:
        return "not run"
    return f"failed: {section['error']}" if "error" in section else None


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    ingest = results.get("ingest")
    if (err := _error(ingest)) is not None:
        rows.append(("Ingest: suite / bare pipeline throughput", err, "≥ 0.80", "–"))
    else:
        assert ingest is not None
        s, b, ratio = ingest["suite_drain"].get("events_per_s"), ingest["bare_drain"].get("events_per_s"), ingest.get("ratio")
        spread = (f" (median of {len(ingest['ratios'])} interleaved pairs, "
                  f"{_f(ingest.get('ratio_min'), 2)}–{_f(ingest.get('ratio_max'), 2)})") if ingest.get("ratios") else ""
        rows.append(("Ingest: suite / bare pipeline throughput",
                     f"{_f(s)} / {_f(b)} events/s = {_f(ratio, 2)}{spread}", "≥ 0.80",
                     _status(None if ratio is None else ratio >= 0.8)))
        half = [r for r in ingest.get("rates", []) if r["target"] == "suite" and r.get("half_of_sustained")]
        p99 = half[0]["stored"]["p99_ms"] if half else None
        rows.append((f"Ingest: p99 publish→stored at half the sustained rate ({_f(ingest.get('half_rate'), 0)} events/s)",
                     f"{_f(p99)} ms", "< 250 ms", _status(None if p99 is None else p99 < 250)))
        lost = sum(ingest[k].get("lost", 0) for k in ("suite_drain", "bare_drain")) + sum(
            r.get("lost", 0) for r in ingest.get("rates", []))
        dup = sum(ingest[k].get("duplicated", 0) for k in ("suite_drain", "bare_drain")) + sum(
            r.get("duplicated", 0) for r in ingest.get("rates", []))
        rows.append(("Ingest: lost / duplicated effects (suite and bare, every phase)", f"{lost} / {dup}", "0 / 0",
                     _status(lost == 0 and dup == 0)))
    identity = results.get("identity")
    if (err := _error(identity)) is not None:
        rows.append(("Identification: gateway phone lookup p99 at 1,000,000 accounts", err, "< 15 ms", "–"))
    else:
        assert identity is not None
        for size in identity["sizes"]:
            at_million = size["accounts"] >= 1_000_000
            rows.append((f"Identification: gateway phone lookup p99 at {size['accounts']:,} accounts",
                         f"{_f(size['gateway_p99_ms'], 2)} ms (driver {_f(size['driver_p99_ms'], 2)} ms)",
                         "< 15 ms" + ("" if at_million else " (at 1M)"),
                         _status(size["gateway_p99_ms"] < 15) if at_million else
                         ("(met at this size)" if size["gateway_p99_ms"] < 15 else "(missed at this size)")))
        if not any(s["accounts"] >= 1_000_000 for s in identity["sizes"]):
            rows.append(("Identification at 1,000,000 accounts", "not run (make bench BENCH_FULL=1)", "< 15 ms", "–"))
    claims = results.get("claims")
    if (err := _error(claims)) is not None:
        rows.append(("Callback claims", err, "≥ 500/s, 0 doubles", "–"))
    else:
        assert claims is not None
        for lv in headline_levels(claims):
            if "error" in lv:
                rows.append((f"Claims, {lv['agents']} agents", f"failed: {lv['error'][:200]}", "≥ 500/s, 0 doubles",
                             "**missed**"))
                continue
            ok = lv["claims_per_s"] >= 500 and lv["double_assignments"] == 0 and lv["owner_mismatch"] == 0
            procs = f", {lv['client_processes']} client processes" if "client_processes" in lv else ""
            rows.append((f"Claims, {lv['agents']} agents{procs}: claims/s, p99, double assignments",
                         f"{_f(lv['claims_per_s'])}/s, p99 {_f(lv['p99_ms'])} ms, {lv['double_assignments']} doubles",
                         "≥ 500/s, 0 doubles", _status(ok)))
    alerts = results.get("alerts")
    if (err := _error(alerts)) is not None:
        rows.append(("Alerts", err, "≥ 100,000/s; p99 < 100 ms", "–"))
    else:
        assert alerts is not None
        ev = alerts["evaluation"]
        rate = ev.get("evaluations_per_s_with_messages")
        rows.append((f"Alerts: rule evaluations/s with {_f(ev.get('rules'))} enabled rules", f"{_f(rate)}/s",
                     "≥ 100,000/s", _status(None if rate is None else rate >= 100_000)))
        p99 = alerts["event_to_stream"].get("p99_ms")
        rows.append(("Alerts: event on Kafka → alert on the SSE stream, p99",
                     f"{_f(p99)} ms (p50 {_f(alerts['event_to_stream'].get('p50_ms'))} ms)", "< 100 ms",
                     _status(None if p99 is None else p99 < 100)))
    return rows


def headline_levels(claims: dict[str, Any]) -> list[dict[str, Any]]:
    """The claim levels of the summary: per-agent clients in the most client processes of the run (earlier
    runs, without these fields, all levels)."""
    levels = [lv for lv in claims["levels"] if not lv.get("shared_pool")]
    most = max((lv.get("client_processes", 1) for lv in levels), default=1)
    return [lv for lv in levels if lv.get("client_processes", 1) == most]


def _client(lv: dict[str, Any]) -> str:
    if "client_processes" not in lv:
        return "1 (shared pool)"
    return f"{lv['client_processes']}{' (shared pool)' if lv.get('shared_pool') else ''}"


def _cpu(lv: dict[str, Any], *names: str) -> list[str]:
    per = lv.get("cpu_ms_per_claim") or {}
    return [_f(per.get(n), 2) for n in names]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    m = results.get("machine", {})
    out = [f"## Benchmark results {results.get('started_at', '')}", "",
           f"{m.get('cpus')} CPUs, Python {m.get('python')}, commit {m.get('commit')}, "
           f"stack: {results.get('stack', '?')}; load average at start {m.get('load_average_at_start')} "
           f"(other work shared the machine; figures are as measured, not best-of)."
           + (" **Quick run: tiny sizes, the figures mean little.**" if results.get("quick") else ""), "",
           _table(["measure", "figure", "target", "status"], [list(r) for r in targets(results)]), ""]
    ingest = results.get("ingest")
    if ingest and "error" not in ingest:
        out += ["### Ingest", "",
                f"Backlog of {_f(ingest['backlog_events'])} events drained (publisher alone: "
                f"{_f(ingest.get('publisher_events_per_s'))} events/s):", ""]
        rows = []
        for name in ("suite_drain", "bare_drain"):
            d = ingest[name]
            rows.append([name.split("_")[0] + (" (median)" if ingest.get("pairs") else ""),
                         _f(d.get("events_per_s")), _f(d.get("elapsed_s"), 2),
                         _f(d.get("consumer_cpu_ms_per_event"), 3), _f(d.get("lost")), _f(d.get("duplicated"))])
        out += [_table(["pipeline", "events/s", "drain s", "consumer CPU ms/event", "lost", "duplicated"], rows), ""]
        if ingest.get("pairs"):
            rows = []
            for p in ingest["pairs"]:
                for name in p["order"]:
                    d = p[name]
                    rows.append([str(p["rep"] + 1), name, _f(d.get("events_per_s")), _f(d.get("elapsed_s"), 2),
                                 _f(d.get("consumer_cpu_ms_per_event"), 3), _f(d.get("database_cpu_ms_per_event"), 3),
                                 _f(d.get("kafka_cpu_ms_per_event"), 3), _f(d.get("settle_s"), 2),
                                 _f(d.get("load_average"), 2), f"{d.get('lost')} / {d.get('duplicated')}",
                                 _f(p.get("ratio"), 2) if name == p["order"][-1] else ""])
            out += ["Interleaved pairs (one pipeline at a time, the other stopped; the order alternates). CPU per "
                    "event over the drain; settle: after the suite's last commit, until its outbox is empty, the "
                    "timeline caught up and no self-service reminder is left:", "",
                    _table(["pair", "pipeline", "events/s", "drain s", "process CPU ms/ev", "database CPU ms/ev",
                            "Kafka CPU ms/ev", "settle s", "load", "lost / dup", "suite / bare"], rows), ""]
        rows = []
        for r in ingest.get("rates", []):
            vis = r.get("visible") or {}
            rows.append([r["target"], _f(r["rate"], 0) + (" (half)" if r.get("half_of_sustained") else ""),
                         _f(r["achieved_rate"]), _f(r["stored"]["p50_ms"]), _f(r["stored"]["p99_ms"]),
                         f"{_f(vis.get('p50_ms'))} / {_f(vis.get('p99_ms'))}" if vis else "–",
                         _f(r["poll_cycle"]["p50_ms"]), _f(r.get("consumer_cpu_share"), 2),
                         f"{r['lost']} / {r['duplicated']}"])
        out += [] if not rows else ["At fixed rates:", "",
                _table(["pipeline", "rate ev/s", "achieved", "stored p50 ms", "stored p99 ms",
                        "visible p50 / p99 ms", "poll cycle p50 ms", "consumer CPU share", "lost / dup"], rows), ""]
    claims = results.get("claims")
    if claims and "error" not in claims:
        rows = [[_f(lv["agents"]), _client(lv), _f(lv["claims"]), _f(lv["claims_per_s"]), _f(lv["p50_ms"]),
                 _f(lv["p99_ms"]), _f(lv["double_assignments"]), _f(lv["owner_mismatch"]), str(lv["errors"] or "–"),
                 *_cpu(lv, "clients", "service", "database", "kafka"), _f(lv.get("machine_cpu_ms_per_claim"), 2),
                 _f(lv.get("machine_busy_share"), 2)] for lv in claims["levels"] if "error" not in lv]
        rows += [[_f(lv["agents"]), _client(lv), f"failed: {lv['error'][:200]}"] + ["–"] * (len(rows[0]) - 3 if rows else 12)
                 for lv in claims["levels"] if "error" in lv]
        drivers = claims.get("driver_levels") or ([claims["driver"]] if claims.get("driver") else [])
        for d in drivers:
            rows.append([f"{_f(d['agents'])} (driver level, no HTTP)", "–", _f(d["claims"]), _f(d["claims_per_s"]),
                         _f(d["p50_ms"]), _f(d["p99_ms"]), _f(d["double_assignments"]), "–", "–",
                         "–", "–", "–", "–", "–", "–"])
        out += ["### Callback claims", "", f"General inbox of {_f(claims['inbox'])} queued items per level. CPU is "
                "milliseconds of CPU per successful claim over the level (client processes, the callbacks service, "
                "the MongoDB-wire server's JVM, Kafka; machine: all cores, everything running); machine busy: share "
                "of both cores in use.", "",
                _table(["agents", "client processes", "claims", "claims/s", "p50 ms", "p99 ms", "double assignments",
                        "owner mismatch", "errors", "CPU ms client", "CPU ms service", "CPU ms database",
                        "CPU ms Kafka", "CPU ms machine", "machine busy"], rows), ""]
        stubs = claims.get("stub_levels") or []
        if stubs:
            out += ["Client ceiling: the same client processes against a trivial stub endpoint (asyncio protocol, "
                    "fixed answer the size of a real claim), no service or database:", "",
                    _table(["agents", "client processes", "requests/s", "p50 ms", "p99 ms", "CPU ms client / request",
                            "CPU ms stub / request", "machine busy"],
                           [[_f(st["agents"]), _client(st), _f(st["claims_per_s"]), _f(st["p50_ms"]),
                             _f(st["p99_ms"]), *_cpu(st, "clients", "stub"), _f(st.get("machine_busy_share"), 2)]
                            for st in stubs]), ""]
    identity = results.get("identity")
    if identity and "error" not in identity:
        rows = [[_f(s["accounts"]), _f(s["load_s"]), _f(s["driver_p50_ms"], 2), _f(s["driver_p99_ms"], 2),
                 _f(s["gateway_p50_ms"], 2), _f(s["gateway_p99_ms"], 2)] for s in identity["sizes"]]
        out += ["### Identification (phone lookup, one request at a time)", "",
                _table(["accounts", "load s", "driver p50 ms", "driver p99 ms", "gateway p50 ms", "gateway p99 ms"],
                       rows), ""]
    alerts = results.get("alerts")
    if alerts and "error" not in alerts:
        ev, st = alerts["evaluation"], alerts["event_to_stream"]
        out += ["### Alerts", "",
                _table(["enabled rules", "conditions/s", "evaluations/s with messages", "matches/event",
                        "cel-python interpreter/s", "stream p50 ms", "stream p99 ms", "stream max ms"],
                       [[_f(ev.get("rules")), _f(ev.get("conditions_per_s")),
                         _f(ev.get("evaluations_per_s_with_messages")), _f(ev.get("matches_per_event")),
                         _f(ev.get("celpy_interpreter_per_s")), _f(st.get("p50_ms")), _f(st.get("p99_ms")),
                         _f(st.get("max_ms"))]]), ""]
    notes = results.get("notes")
    if notes:
        out += ["### Where the time goes", "", *notes, ""]
    return "\n".join(out) + "\n"
