"""The detail tables of a benchmark run, one per section, below the targets."""

from __future__ import annotations

from typing import Any

from .stats import fmt_spread


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _cpu(run: dict[str, Any], *names: str) -> list[str]:
    per = run.get("cpu_ms_per_claim") or {}
    return [_f(per.get(n), 2) for n in names]


def claims_detail(claims: dict[str, Any] | None) -> list[str]:
    if not claims or "error" in claims:
        return []
    rows = []
    for lv, routed in [*((lv, "") for lv in claims["levels"]),
                       *((lv, " (skills)") for lv in claims.get("skill_levels") or [])]:
        for n, run in enumerate(lv["runs"], 1):
            for side in ("suite", "baseline"):
                r = run.get(side, {})
                if "error" in r:
                    rows.append([_f(lv["agents"]) + routed, str(n), side, f"failed: {r['error'][:200]}"] + ["–"] * 9)
                    continue
                rows.append([_f(lv["agents"]) + routed, str(n), side, _f(r.get("claims")), _f(r.get("claims_per_s")),
                             _f(r.get("p50_ms")), _f(r.get("p99_ms")), _f(r.get("double_assignments")),
                             str(r.get("errors") or "–") + (f", {len(r['client_failures'])} client process(es) "
                                                            "failed" if r.get("client_failures") else ""),
                             *_cpu(r, "clients", "service", "database"), _f(r.get("machine_busy_share"), 2)])
    out = ["### Callback claims", "",
           f"General inbox of {_f(claims['inbox'])} queued items, reset before every run; agents spread over "
           f"{claims.get('client_processes')} client processes, one keep-alive connection each. suite: "
           "`POST /v1/callbacks/claim-next`; baseline: `POST /bench/claim-baseline` (one `find_one_and_update` on "
           "the inbox index, same gateway stack). CPU: ms per claim (clients, the callbacks service, the "
           "MongoDB-wire server's JVM).", "",
           _table(["agents", "pair", "route", "claims", "claims/s", "p50 ms", "p99 ms", "doubles", "errors",
                   "CPU client", "CPU service", "CPU database", "machine busy"], rows), ""]
    if claims.get("skills"):
        out += ["Routing on (`--claim-skills`): every item needs the skill `billing`, every second agent has it "
                "(the others are offered nothing); claims by agents without it, per level: "
                f"{' / '.join(_f(lv.get('unqualified_claims')) for lv in claims['levels'])} (must be 0).", ""]
    if claims.get("skill_levels"):
        out += ["Rows marked (skills): the same levels with routing on (issue 17), run after the others on the same "
                "clones: every item needs the skill `billing`, every second agent has it in its token (the others "
                "are offered nothing, their 204 ends their own loop; the baseline selects with the same rule); "
                "claims by agents without it, per level: "
                f"{' / '.join(_f(lv.get('unqualified_claims')) for lv in claims['skill_levels'])} (must be 0).", ""]
    check = claims.get("shared_pool_check")
    if check:
        out += [f"Shared pool ({check.get('agents')} agents, one process, one httpx pool): "
                f"{check.get('error') or str(check.get('claims_per_s')) + ' claims/s, errors ' + str(check.get('errors'))}"
                f"{'; client failures: ' + str(check.get('client_failures')) if check.get('client_failures') else ''}", ""]
    for failure in [f for lv in claims["levels"] + (claims.get("skill_levels") or []) for f in lv.get("failures", [])][:3]:
        out += ["A failed client run:", "", "```", failure[-2000:], "```", ""]
    return out


def _skipped(sizes: list[dict[str, Any]]) -> str:
    counts = [s["backlog_skipped"] for s in sizes if s.get("backlog_skipped") is not None]
    return (f" The service's consumers started at the end of their topics (events left there by earlier sections, "
            f"not replayed: {_f(max(counts))})." if counts else "")


def identity_detail(identity: dict[str, Any] | None) -> list[str]:
    if not identity or "error" in identity:
        return []
    rows = []
    for s in identity["sizes"]:
        for kind in ("phone", "name"):
            k = s.get(kind)
            if k:
                rows.append([_f(s["accounts"]), kind, fmt_spread(k["driver_p50_ms"], 2), fmt_spread(k["driver_p99_ms"], 2),
                             fmt_spread(k["gateway_p50_ms"], 2), fmt_spread(k["gateway_p99_ms"], 2),
                             fmt_spread(k["ratio"])])
    return ["### Identification (one lookup at a time)", "",
            f"{identity.get('rounds')} rounds of {identity.get('lookups')} lookups per kind and size, driver and "
            "gateway interleaved; the name is the account's surname with one letter dropped, at its postcode."
            + _skipped(identity["sizes"]), "",
            _table(["accounts", "lookup", "driver p50 ms", "driver p99 ms", "gateway p50 ms", "gateway p99 ms",
                    "gateway / driver p99"], rows), ""]


def alerts_detail(alerts: dict[str, Any] | None) -> list[str]:
    if not alerts or "error" in alerts:
        return []
    ev, st, ab = alerts.get("evaluation") or {}, alerts.get("stream") or {}, alerts.get("absence") or {}
    return ["### Alerts", "",
            _table(["measure", "figure"], [
                ["enabled rules", _f(ev.get("rules"))],
                ["evaluations/s with messages (no budget)", _f(ev.get("evaluations_per_s_with_messages"))],
                ["evaluation budget", (alerts.get("budget") or {}).get("why") or "measured"],
                [f"event → stream p50 / p99 ms at {st.get('rate')} events/s, suite",
                 f"{fmt_spread(st.get('suite_p50_ms'), 1)} / {fmt_spread(st.get('suite_p99_ms'), 1)}"],
                ["the same, bare forwarding consumer",
                 f"{fmt_spread(st.get('bare_p50_ms'), 1)} / {fmt_spread(st.get('bare_p99_ms'), 1)}"],
                [f"absence alerts ({ab.get('count', '–')}, within {ab.get('within_s', '–')} s): late p50 / p99 ms",
                 f"{fmt_spread(ab.get('late_p50_ms'), 0)} / {fmt_spread(ab.get('late_p99_ms'), 0)}"
                 if "error" not in ab else ab["error"][:300]]]), ""]


def scaling_detail(scaling: dict[str, Any] | None) -> list[str]:
    if not scaling:
        return []
    if "error" in scaling:
        return ["### Scaling", "", f"failed: {scaling['error'][:300]}", ""]
    rows = [[_f(r["replicas"]), fmt_spread(r["events_per_s"], 0), fmt_spread(r.get("per_replica"), 0),
             _f(r.get("machine_busy_share"), 2)] for r in scaling["replicas"]]
    return ["### Scaling: interactions replicas against one backlog", "",
            f"{_f(scaling.get('backlog'))} events on {scaling.get('partitions')} partitions, {scaling.get('repeats')} "
            f"runs per replica count, {scaling.get('cpus')} CPUs.", "",
            _table(["replicas", "events/s", "events/s per replica", "machine busy"], rows), "",
            scaling.get("verdict", ""), ""]
