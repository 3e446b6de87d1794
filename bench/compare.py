"""Two commits in one run: ``python -m bench.compare BEFORE AFTER [--rounds N] -- <bench arguments>``.

Each commit is checked out in a temporary worktree with its own environment (``scripts/uv.sh sync``), and
its own ``python -m bench`` (its services, its harness) runs against ONE stack started here, in rounds that
alternate the order (before, after; after, before; ...), so that both see the same machine and the same
load. The figures of each commit are reported as median and range over the rounds, side by side, and
written to ``bench/results/<date>-compare-<before>-<after>.md`` and ``.json``.

    uv run python -m bench.compare 3cb7973 HEAD --rounds 2 --alerts-one-harness -- --only ingest claims alerts

With ``--alerts-one-harness`` every round also measures both commits' alerts services with THIS checkout's
harness (``bench.alerts_versus``: the same rules, events and method against each commit's service), because the
two harnesses' own alerts figures come from different methods (one event at a time against a fixed rate).

Only arguments that both commits' harnesses know may follow ``--``. Figures are read from either harness's
results (a plain number from older runs, a median with its spread from newer ones).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import alerts_versus
from .common import RESULTS, ROOT, load_average, log

Figure = Callable[[dict[str, Any]], dict[str, float]]


def _ingest(results: dict[str, Any]) -> dict[str, float]:
    pairs = (results.get("ingest") or {}).get("pairs") or []
    ratios = [pair["ratio"] for pair in pairs if isinstance(pair, dict) and "ratio" in pair]
    return {"ingest suite/bare (median of pairs)": statistics.median(ratios)} if ratios else {}


def _median(value: Any) -> float | None:
    """A figure as either harness writes it: a number (older runs) or a spread with its median."""
    return value.get("median") if isinstance(value, dict) else value


def _claims(results: dict[str, Any]) -> dict[str, float]:
    figures: dict[str, float] = {}
    for level in (results.get("claims") or {}).get("levels") or []:
        rate = _median(level.get("suite", level.get("claims_per_s")))
        if level.get("shared_pool") or rate is None:
            continue
        name = f"claims/s at {level['agents']:>3} agents"
        figures.setdefault(name, rate)  # older runs: the first level of this size (fewest client processes)
        doubles = f"double assignments at {level['agents']:>3} agents"
        figures[doubles] = figures.get(doubles, 0) + level.get("double_assignments", 0)
    for level in (results.get("claims") or {}).get("skill_levels") or []:  # newer harnesses: routing on as well
        if (rate := _median(level.get("suite"))) is not None:
            figures[f"claims/s with skills at {level['agents']:>3} agents"] = rate
            figures[f"double or unqualified claims with skills at {level['agents']:>3} agents"] = (
                level.get("double_assignments", 0) + level.get("unqualified_claims", 0))
    return figures


def _alerts(results: dict[str, Any]) -> dict[str, float]:
    alerts = results.get("alerts") or {}
    figures = {}
    p99 = _median((alerts.get("stream") or {}).get("suite_p99_ms",
                                                   (alerts.get("event_to_stream") or {}).get("p99_ms")))
    if p99 is not None:
        figures["alerts event->stream p99 ms"] = p99
    if (rate := (alerts.get("evaluation") or {}).get("evaluations_per_s_with_messages")) is not None:
        figures["alerts evaluations/s"] = _median(rate)
    return figures


def _alerts_one_harness(results: dict[str, Any]) -> dict[str, float]:
    """The alerts stream of both commits measured by this checkout's harness (``bench.alerts_versus``)."""
    versus = results.get("alerts_versus") or {}
    figures = {}
    for key, name in (("one_at_a_time", "one event at a time"), ("at_rate", "at 100 events/s")):
        if (run := versus.get(key)) is not None:
            figures[f"alerts p99 ms, {name}, one harness"] = run["p99_ms"]
            figures[f"alerts missing, {name}, one harness"] = run["missing"]
            figures[f"alerts per event, {name}, one harness"] = run["alerts_per_event"]
    return figures


FIGURES: tuple[Figure, ...] = (_ingest, _claims, _alerts, _alerts_one_harness)


def figures_of(results: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for figure in FIGURES:
        out.update(figure(results))
    return out


def checkout(commit: str, into: Path) -> Path:
    tree = into / commit
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True,
                   capture_output=True)
    synced = subprocess.run([str(ROOT / "scripts" / "uv.sh"), "sync", "--frozen", "--all-packages", "--group", "dev"],
                            cwd=tree, check=False, capture_output=True, text=True,
                            env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"})
    if synced.returncode != 0:
        raise SystemExit(f"compare: cannot set up {commit}'s environment:\n{synced.stderr[-2000:]}")
    return tree


def run_bench(tree: Path, env: dict[str, str], bench_args: list[str], out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    command = [str(tree / ".venv" / "bin" / "python"), "-m", "bench", *bench_args, "--out", str(out)]
    completed = subprocess.run(command, cwd=tree, env=env, check=False)
    written = sorted(out.glob("*.json"))
    if completed.returncode != 0 or not written:
        return {"error": f"exit {completed.returncode}, no results"}
    return json.loads(written[-1].read_text())


def drop_databases(mongodb_uri: str) -> int:
    """Drop every database a run left (the server keeps them in its heap)."""
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    try:
        names = [n for n in client.list_database_names() if n not in ("admin", "config", "local")]
        for name in names:
            client.drop_database(name)
        return len(names)
    finally:
        client.close()


def summary(rounds: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    names = sorted({name for figures in rounds for name in figures})
    table = {}
    for name in names:
        values = [figures[name] for figures in rounds if name in figures]
        table[name] = {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}
    return table


HIGHER_IS_BETTER = ("claims/s", "ingest suite/bare", "evaluations/s")
LOWER_IS_BETTER = ("p99", "missing", "double")
NOTES = (
    "Run-to-run spread: the wider of the two sides' ranges (max - min over the rounds). \"Worse beyond the "
    "spread\" says whether the after side's median is worse than the before side's by more than that.",
    "\"alerts event->stream p99 ms\" is each harness's own method and not comparable across harnesses that "
    "measure differently (the November harness: one event at a time; December's: 100 events/s); the rows "
    "\"..., one harness\" measure both commits' services with this checkout's bench.alerts_versus.",
)


def worse_beyond_spread(name: str, before: dict[str, float], after: dict[str, float]) -> str:
    """'no' / 'YES' with the margin, or '' for figures without a better direction (counts of alerts per event)."""
    if any(key in name for key in HIGHER_IS_BETTER):
        worse = before["median"] - after["median"]
    elif any(key in name for key in LOWER_IS_BETTER):
        worse = after["median"] - before["median"]
    else:
        return ""
    spread = max(before["max"] - before["min"], after["max"] - after["min"])
    return f"{'YES' if worse > spread else 'no'} (worse by {worse:g}, spread {spread:g})"


def markdown(before: str, after: str, report: dict[str, Any]) -> str:
    lines = [f"# {before} against {after}, {report['rounds']} alternating rounds on one stack",
             "", f"Started {report['started_at']}, load average {report['load_before']} before and "
             f"{report['load_after']} after. Bench arguments: `{' '.join(report['bench_args'])}`.", "",
             f"| figure | {before} median (range) | {after} median (range) | after / before | worse beyond the spread |",
             "| --- | --- | --- | --- | --- |"]
    b, a = report["summary"]["before"], report["summary"]["after"]
    for name in sorted(set(b) | set(a)):
        cells = []
        for side in (b, a):
            f = side.get(name)
            cells.append(f"{f['median']:g} ({f['min']:g}–{f['max']:g})" if f else "n/a")
        ratio = (f"{a[name]['median'] / b[name]['median']:.2f}" if name in a and name in b and b[name]["median"]
                 else "")
        verdict = worse_beyond_spread(name, b[name], a[name]) if name in a and name in b else ""
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {ratio} | {verdict} |")
    return "\n".join([*lines, "", *NOTES]) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--alerts-one-harness", action="store_true",
                        help="in every round, also measure both commits' alerts services with this checkout's "
                             "harness (bench.alerts_versus), so that the two figures come from one method")
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    bench_args = argv[split + 1:]
    from icsuite_devstack.stack import start_stack

    commits = {side: subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, check=True, capture_output=True,
                                    text=True).stdout.strip() for side, ref in (("before", args.before),
                                                                                  ("after", args.after))}
    report: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "commits": commits,
                              "rounds": args.rounds, "bench_args": bench_args, "load_before": load_average(),
                              "runs": {"before": [], "after": []}}
    work = Path(tempfile.mkdtemp(prefix="icsuite-compare-"))
    trees: dict[str, Path] = {}
    os.environ.setdefault("IC_MONGO_OPLOG", "0")
    # as make bench sizes it (bench.memory): with the default 1 GB the MongoDB-wire server's heap filled up with
    # the databases of the runs before, and every later run was measured through its garbage collector
    from icsuite_devstack import config

    config.MONGO_HEAP = os.environ.get("IC_BENCH_MONGO_HEAP", "4g")
    stack = start_stack(work / "stack", mongo_memory=True)
    try:
        stack.create_topics()
        for side, commit in commits.items():
            log(f"compare: checking out {side} {commit}")
            trees[side] = checkout(commit, work)
        env = {**os.environ, **stack.env()}
        for round_no in range(args.rounds):
            order = ("before", "after") if round_no % 2 == 0 else ("after", "before")
            for side in order:
                log(f"compare: round {round_no + 1}, {side} ({commits[side]})")
                results = run_bench(trees[side], env, bench_args, work / f"out-{side}-{round_no}")
                if args.alerts_one_harness:
                    log(f"compare: round {round_no + 1}, {side} ({commits[side]}), alerts with one harness")
                    results["alerts_versus"] = asyncio.run(alerts_versus.measure(
                        trees[side], stack.env(), work / f"logs-{side}-{round_no}"))
                    log(f"compare: {results['alerts_versus']}")
                dropped = drop_databases(stack.env()["MONGODB_URI"])
                log(f"compare: dropped the {dropped} databases of that run (each run starts on an empty server)")
                report["runs"][side].append(results)
    finally:
        stack.stop()
        for tree in trees.values():
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
        shutil.rmtree(work, ignore_errors=True)
    report["load_after"] = load_average()
    report["summary"] = {side: summary([figures_of(r) for r in runs]) for side, runs in report["runs"].items()}
    text = markdown(commits["before"], commits["after"], report)
    print(text, flush=True)
    stem = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-compare-{commits['before']}-{commits['after']}"
    for n in range(2, 100):  # a second compare of the same commits on the same day keeps the first
        if not stem.with_suffix(".md").exists():
            break
        stem = stem.with_name(f"{datetime.now(UTC):%Y-%m-%d}-compare-{commits['before']}-{commits['after']}-{n}")
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    stem.with_suffix(".md").write_text(text)
    log(f"wrote {stem.with_suffix('.md')}")


if __name__ == "__main__":
    main()
