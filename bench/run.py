"""``make bench``: start a local stack (or use KAFKA_BOOTSTRAP_SERVERS + MONGODB_URI), run the benchmarks,
write ``bench/results/<date>.json`` and ``.md`` and print the table.

    uv run python -m bench                       # the default run (100,000 accounts), about 10 minutes
    uv run python -m bench --full                # identification at 1,000,000 accounts too (BENCH_FULL=1)
    uv run python -m bench --only ingest claims  # some sections only
    uv run python -m bench --quick               # tiny sizes: checks the harness, the figures mean little
"""

from __future__ import annotations

import argparse
import asyncio
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

from .common import RESULTS, ROOT, load_average, log
from .report import markdown

SECTIONS = ("ingest", "identity", "claims", "alerts")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--full", action="store_true", default=os.environ.get("BENCH_FULL") == "1",
                        help="identification at 1,000,000 accounts as well (env BENCH_FULL=1)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the harness")
    parser.add_argument("--backlog", type=int, default=None, help="ingest: events in the drained backlog")
    parser.add_argument("--rates", type=float, nargs="*", default=None, help="ingest: fixed rates, events/s")
    parser.add_argument("--duration", type=float, default=None,
                        help="ingest: seconds per fixed rate (0: no fixed-rate phases)")
    parser.add_argument("--pairs", type=int, default=None,
                        help="ingest: interleaved bare/suite repetitions for the ratio (default 3, quick 1)")
    parser.add_argument("--profile-suite", type=Path, default=None,
                        help="ingest: after the pairs, one more suite drain under pyinstrument, its text report "
                             "written here (run with `uv run --with pyinstrument`)")
    parser.add_argument("--accounts", type=int, nargs="+", default=None, help="identification: sizes")
    parser.add_argument("--lookups", type=int, default=None, help="identification: lookups per size")
    parser.add_argument("--agents", type=int, nargs="+", default=None, help="claims: concurrent agents")
    parser.add_argument("--claim-seconds", type=float, default=None, help="claims: seconds per level")
    parser.add_argument("--claim-inbox", type=int, default=None,
                        help="claims: queued items per level (default 1,000: a level then lasts 1.5-3 s; "
                             "more items make it longer and its figure steadier)")
    parser.add_argument("--claim-processes", type=int, nargs="+", default=None,
                        help="claims: client processes the agents are spread over (each level runs with each)")
    parser.add_argument("--rules", type=int, default=None, help="alerts: enabled rules")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args(argv)


def settings(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    return {
        "backlog": args.backlog or (600 if quick else 15_000),
        "rates": args.rates if args.rates is not None else ([100.0] if quick else [100.0, 300.0]),
        "duration": args.duration if args.duration is not None else (3.0 if quick else 12.0),
        "pairs": args.pairs or (1 if quick else 3),
        "accounts": args.accounts or ([2_000] if quick else [100_000, 1_000_000] if args.full else [100_000]),
        "lookups": args.lookups or (100 if quick else 2000),
        "agents": args.agents or ([10] if quick else [10, 50, 200]),
        "claim_seconds": args.claim_seconds or (2.0 if quick else 10.0),
        "claim_processes": args.claim_processes or ([2] if quick else [1, 2]),
        "claim_inbox": args.claim_inbox or 1000,
        "rules": args.rules or (50 if quick else 1000),
    }


def machine() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "commit": commit.stdout.strip() or None, "load_average_at_start": load_average()}


def run_section(name: str, results: dict[str, Any], fn: Callable[[], Any]) -> None:
    log(f"=== {name} ===")
    started = time.perf_counter()
    try:
        results[name] = fn()
    except Exception as exc:  # one failing section must not lose the others' figures
        traceback.print_exc()
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    results.setdefault("durations_s", {})[name] = round(time.perf_counter() - started, 1)
    results.setdefault("load_average_after", {})[name] = load_average()


def run_all(args: argparse.Namespace, stack_env: dict[str, str], workdir: Path,
            stack_pids: dict[str, int | None] | None = None) -> dict[str, Any]:
    conf = settings(args)
    logs = workdir / "logs"
    results: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                               "machine": machine(), "settings": conf, "quick": args.quick}
    if "ingest" in args.only:
        from .ingest import run_ingest

        run_section("ingest", results, lambda: asyncio.run(run_ingest(
            stack_env, logs, backlog=conf["backlog"], rates=conf["rates"], duration=conf["duration"],
            pairs=conf["pairs"], warmup=0 if args.quick else 3000, stack_pids=stack_pids, profile=args.profile_suite)))
    if "claims" in args.only:
        from .claims import run_claims

        run_section("claims", results, lambda: asyncio.run(run_claims(
            stack_env, logs, agents=conf["agents"], seconds=conf["claim_seconds"],
            processes=conf["claim_processes"], inbox=conf["claim_inbox"], stack_pids=stack_pids)))
    if "alerts" in args.only:
        from .alerts import run_alerts

        run_section("alerts", results, lambda: asyncio.run(run_alerts(stack_env, logs, rules=conf["rules"],
                                                                      quick=args.quick)))
    if "identity" in args.only:
        from .identity import run_identity

        run_section("identity", results, lambda: asyncio.run(run_identity(
            stack_env, accounts=conf["accounts"], lookups=conf["lookups"])))
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results


def write(results: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    json_path, md_path = out / f"{stamp}.json", out / f"{stamp}.md"
    json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from icsuite_devstack.stack import stack_from_env

    stack = stack_from_env()
    with tempfile.TemporaryDirectory(prefix="icsuite-bench-") as tmp:
        workdir = Path(tmp)
        if stack is None:
            from icsuite_devstack import config
            from icsuite_devstack.stack import start_stack

            # No service uses change streams: without the oplog the MongoDB-wire server does not grow an
            # ever-longer log with every write. The heap must hold a million accounts with --full.
            os.environ.setdefault("IC_MONGO_OPLOG", "0")
            config.MONGO_HEAP = os.environ.get("IC_BENCH_MONGO_HEAP", "6g" if args.full else "3g")
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
        finally:
            if owned:
                stack.stop()
    table = markdown(results)
    print(table, flush=True)
    if not args.no_write:
        json_path, md_path = write(results, args.out)
        log(f"wrote {json_path.relative_to(ROOT) if json_path.is_relative_to(ROOT) else json_path} and {md_path.name}")
    return results


if __name__ == "__main__":
    main()
