"""The Markdown tables of a benchmark run: the targets (met or missed) and the detail of each section."""

from __future__ import annotations

from typing import Any

from .report_detail import _f, _table, alerts_detail, claims_detail, identity_detail, scaling_detail
from .targets import targets


def markdown(results: dict[str, Any]) -> str:
    m = results.get("machine", {})
    load = results.get("load_average", {})
    out = [f"## Benchmark results {results.get('started_at', '')}", "",
           f"Commit {m.get('commit')}, {m.get('cpus')} CPUs ({m.get('cpu_model', '?')}), "
           f"{m.get('memory_gb', '?')} GB, Python {m.get('python')}, {m.get('platform')}; stack: "
           f"{results.get('stack', '?')}"
           + (f"; crypto-shredding {results['crypto_shredding']}" if results.get("crypto_shredding") else "")
           + f". Load average before {load.get('before')}, after {load.get('after')} "
           f"(1 min; per section in the JSON). Took {_f(results.get('took_s'), 0)} s."
           + (" **Quick run: tiny sizes, the figures mean little.**" if results.get("quick") else ""), "",
           "Every figure is the median (min–max, n runs) of the repetitions in this one invocation; every target "
           "is a ratio to a baseline measured in the same run.", "",
           _table(["measure", "figure", "baseline", "target", "verdict"], [list(r) for r in targets(results)]), ""]
    durations, loads = results.get("durations_s") or {}, results.get("load_average_before") or {}
    if durations:
        out += ["Sections: " + ", ".join(f"{name} {_f(s, 0)} s (load {loads.get(name)} → "
                                         f"{(results.get('load_average_after') or {}).get(name)})"
                                         for name, s in durations.items()) + ".", ""]
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
    out += claims_detail(results.get("claims"))
    out += identity_detail(results.get("identity")) + alerts_detail(results.get("alerts"))
    out += scaling_detail(results.get("scaling"))
    if (desktop := results.get("desktop")) and desktop.get("runs"):
        from .desktop import markdown_lines

        out += markdown_lines(desktop)
    notes = results.get("notes")
    if notes:
        out += ["### Where the time goes", "", *notes, ""]
    return "\n".join(out) + "\n"
