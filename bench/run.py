"""``make bench``: start a local stack (or use KAFKA_BOOTSTRAP_SERVERS + MONGODB_URI), run the benchmarks,
write ``bench/results/<date>-<commit>.json`` and ``.md`` and print the table.

    uv run python -m bench                       # the default run (100,000 accounts), about 15 minutes
    uv run python -m bench --full                # bigger sizes: identification at 1,000,000 accounts (BENCH_FULL=1)
    uv run python -m bench --only ingest claims  # some sections only
    uv run python -m bench --quick               # tiny sizes: checks the harness, the figures mean little
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import platform
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import memory
from .common import RESULTS, ROOT, load_average, log
from .report import markdown
from .stats import spread

SECTIONS = ("ingest", "claims", "identity", "alerts", "scaling", "desktop")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--full", action="store_true", default=os.environ.get("BENCH_FULL") == "1",
                        help="identification at 1,000,000 accounts as well (env BENCH_FULL=1)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the harness")
    parser.add_argument("--backlog", type=int, default=None, help="ingest: events in the drained backlog")
    parser.add_argument("--rates", type=float, nargs="*", default=None, help="ingest: fixed rates, events/s, besides half the sustained rate (default none)")
    parser.add_argument("--duration", type=float, default=None,
                        help="ingest: seconds per latency phase at half the sustained rate (and --rates); 0: none")
    parser.add_argument("--pairs", type=int, default=None,
                        help="ingest: interleaved bare/suite repetitions for the ratio (default 5, quick 1)")
    parser.add_argument("--profile-suite", type=Path, default=None,
                        help="ingest: after the pairs, one more suite drain under pyinstrument, its text report "
                             "written here (run with `uv run --with pyinstrument`)")
    parser.add_argument("--accounts", type=int, nargs="+", default=None, help="identification: sizes")
    parser.add_argument("--lookups", type=int, default=None, help="identification: lookups per round, kind and side (default 1,000)")
    parser.add_argument("--agents", type=int, nargs="+", default=None, help="claims: concurrent agents")
    parser.add_argument("--claim-seconds", type=float, default=None, help="claims: seconds per level")
    parser.add_argument("--claim-inbox", type=int, default=None,
                        help="claims: queued items per run (default 2,000: a run then lasts up to --claim-seconds, 5 s; "
                             "more items make it longer and its figure steadier)")
    parser.add_argument("--claim-processes", type=int, default=None,
                        help="claims: client processes the agents are spread over (default 2)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="claims, identification, alerts stream, scaling: repetitions in the run (default 3)")
    parser.add_argument("--claim-driver", action="store_true", help="claims: the handler without HTTP as well")
    parser.add_argument("--claim-skills", action="store_true",
                        help="claims: routing on in every level - every item needs a skill that every second agent has "
                             "(without it, the levels run with routing off and then once more with it on)")
    parser.add_argument("--claim-no-skill-levels", action="store_true",
                        help="claims: leave out the levels with routing on that follow the others")
    parser.add_argument("--claim-stub", type=float, default=0.0,
                        help="claims: seconds per level against a trivial stub endpoint (the client's ceiling)")
    parser.add_argument("--replicas", type=int, nargs="+", default=None, help="scaling: replica counts")
    parser.add_argument("--rules", type=int, default=None, help="alerts: enabled rules")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args(argv)


def settings(args: argparse.Namespace) -> dict[str, Any]:
    quick, full = args.quick, args.full and not args.quick
    repeats = args.repeats or (1 if quick else 3)
    return {
        "backlog": args.backlog or (600 if quick else 15_000),
        "rates": args.rates if args.rates is not None else [],
        "duration": args.duration if args.duration is not None else (3.0 if quick else 10.0),
        "pairs": args.pairs or (1 if quick else 5),
        "repeats": repeats,
        "accounts": args.accounts or ([2_000] if quick else [100_000, 1_000_000] if full else [100_000]),
        "lookups": args.lookups or (100 if quick else 1000),
        "agents": args.agents or ([10, 200] if quick else [10, 50, 200]),
        "claim_seconds": args.claim_seconds or (1.0 if quick else 5.0),
        "claim_processes": args.claim_processes or 2,
        "claim_inbox": args.claim_inbox or (300 if quick else 2000),
        "rules": args.rules or (50 if quick else 1000),
        "replicas": args.replicas or [1, 2, 3],
        "scaling_backlog": 1_500 if quick else (30_000 if full else 12_000),
    }


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True)
    model = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                  if line.startswith("model name")), None)
    mem = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal:")), 0)
    return {"cpus": os.cpu_count(), "cpu_model": model, "memory_gb": round(mem / 1024 / 1024, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "commit": commit.stdout.strip() or None, "uncommitted_changes": bool(dirty.stdout.strip()),
            "load_average_at_start": load_average()}


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def run_section(name: str, results: dict[str, Any], fn: Callable[[], Any]) -> None:
    log(f"=== {name} ===")
    results.setdefault("load_average_before", {})[name] = load_average()
    started = time.perf_counter()
    try:
        results[name] = fn()
    except Exception as exc:  # one failing section must not lose the others' figures
        traceback.print_exc()
        results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    results.setdefault("durations_s", {})[name] = round(time.perf_counter() - started, 1)
    results.setdefault("load_average_after", {})[name] = load_average()


def run_all(args: argparse.Namespace, stack_env: dict[str, str], workdir: Path,
            stack_pids: dict[str, int | None] | None = None) -> dict[str, Any]:
    conf = settings(args)
    logs = workdir / "logs"
    results: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "machine": machine(), "settings": conf, "quick": args.quick, "full": args.full}
    sections = sections_of(args, conf, stack_env, logs, stack_pids)
    for name in SECTIONS:
        if name in args.only:
            run_section(name, results, sections[name])
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results


def sections_of(args: argparse.Namespace, conf: dict[str, Any], env: dict[str, str], logs: Path,
                pids: dict[str, int | None] | None) -> dict[str, Callable[[], Any]]:
    """Each section as a call; imported when it runs."""

    def ingest() -> Any:
        from .ingest import run_ingest

        return asyncio.run(run_ingest(env, logs, backlog=conf["backlog"], rates=conf["rates"],
                                      duration=conf["duration"], pairs=conf["pairs"],
                                      warmup=0 if args.quick else 3000, stack_pids=pids, profile=args.profile_suite,
                                      latency_repeats=conf["repeats"]))

    def claims() -> Any:
        from .claims import run_claims

        return asyncio.run(run_claims(env, logs, agents=conf["agents"], seconds=conf["claim_seconds"],
                                      processes=conf["claim_processes"], repeats=conf["repeats"],
                                      inbox=conf["claim_inbox"], stack_pids=pids, driver=args.claim_driver,
                                      stub_seconds=args.claim_stub, skills=args.claim_skills,
                                      skill_levels=not (args.claim_skills or args.claim_no_skill_levels)))

    def identity() -> Any:
        from .identity import run_identity

        return asyncio.run(run_identity(env, logs, accounts=conf["accounts"], lookups=conf["lookups"],
                                        rounds=conf["repeats"]))

    def alerts() -> Any:
        from .alerts import run_alerts

        return asyncio.run(run_alerts(env, logs, rules=conf["rules"], quick=args.quick, repeats=conf["repeats"]))

    def scaling() -> Any:
        from .scaling import run_scaling

        return asyncio.run(run_scaling(env, logs, replicas=conf["replicas"], backlog=conf["scaling_backlog"],
                                       repeats=conf["repeats"], stack_pids=pids))

    def desktop() -> Any:
        try:
            from .desktop import run_desktop  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            return {"skipped": "not measured: bench/desktop.py (the desktop section) is not there yet"}
        if "repeats" in inspect.signature(run_desktop).parameters:
            return asyncio.run(run_desktop(env, logs, quick=args.quick, repeats=conf["repeats"]))
        runs = [asyncio.run(run_desktop(env, logs, contacts=10 if args.quick else 100 if args.full else 50))["contact_to_page"]
                for _ in range(conf["repeats"])]  # one figure per run: the section's median and spread
        return {"caller_shown_p99_ms": spread([r["caller_shown"]["p99_ms"] for r in runs], 1),
                "bare_consumer_p99_ms": spread([r["bare_consumer"]["p99_ms"] for r in runs], 1),
                "not_shown": sum(r["not_shown"] for r in runs), "runs": runs}

    return {"ingest": ingest, "claims": claims, "identity": identity, "alerts": alerts, "scaling": scaling,
            "desktop": desktop}


def write(results: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    commit = results.get("machine", {}).get("commit") or "nocommit"
    base = f"{stamp}-{commit}{'-quick' if results.get('quick') else ''}"
    json_path, md_path = out / f"{base}.json", out / f"{base}.md"
    n = 2
    while json_path.exists() or md_path.exists():  # a second run of the same commit on the same day
        json_path, md_path = out / f"{base}-{n}.json", out / f"{base}-{n}.md"
        n += 1
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path


def mongo_heap(args: argparse.Namespace) -> str:
    """``IC_BENCH_MONGO_HEAP``, or the heap the largest identification size needs (:mod:`bench.memory`);
    exits with the reason when the machine does not have that memory available, before starting anything."""
    if os.environ.get("IC_BENCH_MONGO_HEAP"):
        return os.environ["IC_BENCH_MONGO_HEAP"]
    accounts = settings(args)["accounts"] if "identity" in args.only else []
    heap = memory.mongo_heap_gb(accounts)
    problem = memory.shortfall(heap, accounts, memory.available_gb())
    if problem:
        log(f"not started: {problem}")
        raise SystemExit(2)
    log(f"the MongoDB-wire server's heap: {heap} GB (largest identification size {max(accounts, default=0):,})")
    return f"{heap}g"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    began, load_before = time.perf_counter(), load_average()
    from icsuite_devstack.stack import stack_from_env

    stack = stack_from_env()
    with tempfile.TemporaryDirectory(prefix="icsuite-bench-") as tmp:
        workdir = Path(tmp)
        if stack is None:
            from icsuite_devstack import config
            from icsuite_devstack.stack import start_stack

            # No service uses change streams: without the oplog the MongoDB-wire server does not grow an
            # ever-longer log with every write. The heap must hold the identification section's accounts.
            os.environ.setdefault("IC_MONGO_OPLOG", "0")
            config.MONGO_HEAP = mongo_heap(args)
            log("starting a local stack (Kafka, MongoDB-wire server in memory)")
            stack = start_stack(workdir / "stack", mongo_memory=True)
            owned = True
        else:
            owned = False
            log(f"using the stack of the environment: {stack.kafka_bootstrap}, {stack.mongodb_uri}")
        try:
            stack.create_topics()
            pids = {"database": stack.mongo.process.pid if stack.mongo else None,
                    "kafka": stack.kafka.process.pid if stack.kafka else None}
            results = run_all(args, stack.env(), workdir, pids)
            results["stack"] = "local (started by the bench, MongoDB in memory, no oplog)" if owned else "environment"
            results["crypto_shredding"] = "on (IC_CRYPTO_SHREDDING=true, as users run the suite)"
        finally:
            if owned:
                stack.stop()
    results["load_average"] = {"before": load_before, "after": load_average()}
    results["took_s"] = round(time.perf_counter() - began, 1)
    table = markdown(results)
    print(table, flush=True)
    if not args.no_write:
        json_path, md_path = write(results, args.out)
        log(f"wrote {json_path.relative_to(ROOT) if json_path.is_relative_to(ROOT) else json_path} and {md_path.name}")
    return results


if __name__ == "__main__":
    main()
