"""The claim clients: agents spread over client processes, each its own event loop and httpx clients.

A client process that dies is reported as an error with its traceback (or its exit code), and the level's
other processes still count; no wait is longer than the level's time plus ``GRACE_S``.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import queue
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .claim_agents import REQUEST_TIMEOUT_S, agents_process
from .common import cpu_seconds, summary_ms

CLAIM_PATH = "/v1/callbacks/claim-next"
BASELINE_PATH = "/bench/claim-baseline"
GRACE_S = REQUEST_TIMEOUT_S + 5.0
"""After the level's time: a client cuts its requests still in flight a request timeout after the level's end,
then reports; a process that has not reported by then is counted as failed."""
START_TIMEOUT_S = 120.0
SKILL = "billing"
"""With routing on (``--claim-skills``) every item needs this skill and every second agent has it."""


def skilled(n: int, skills: bool) -> bool:
    """Whether agent ``n`` has the skill: every second one with routing on, none without (none is needed)."""
    return skills and n % 2 == 1


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat (all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / tick, sum(fields) / tick


async def _collect(workers: list[Any], out: Any, count: int, until: float) -> tuple[list[dict[str, Any]], list[str]]:
    """``count`` answers from ``out`` until ``until`` (monotonic); a process that ended without one, or that is
    still running at ``until``, becomes an error."""
    parts: list[dict[str, Any]] = []
    failures: list[str] = []
    while len(parts) + len(failures) < count:
        try:
            answer = await asyncio.to_thread(out.get, True, 0.5)
        except queue.Empty:
            if time.monotonic() > until:
                failures.append(f"{count - len(parts) - len(failures)} client process(es) gave no answer in time")
                break
            silent_dead = [w for w in workers if w.exitcode not in (None, 0)]
            if len(silent_dead) > len(failures) and out.empty():
                await asyncio.sleep(1.0)  # its own failure report may still be in the pipe
                if out.empty():
                    failures += [f"client process {w.pid} exited with code {w.exitcode} without a report"
                                 for w in silent_dead[len(failures):]]
            continue
        if "failed" in answer:
            failures.append(answer["failed"])
        else:
            parts.append(answer)
    return parts, failures


async def drive(url: str, agents: int, seconds: float, processes: int, pids: dict[str, int | None],
                shared_pool: bool = False, path: str = CLAIM_PATH, grace_s: float = GRACE_S,
                skills: bool = False) -> dict[str, Any]:
    """``agents`` agents spread over ``processes`` client processes (round robin), calling ``path`` in a loop;
    every (callback id, agent) of every process is collected, with CPU per claim of each process in ``pids``,
    of the clients and of the machine. Dead client processes are listed under ``client_failures``."""
    from icsuite_chassis.testing import bearer

    ctx = mp.get_context("spawn")
    ready, out, go, empty = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
    stop_at = ctx.Value("d", 0.0)
    subs = [f"bench-agent-{n:03d}" for n in range(agents)]
    tokens = [(sub, bearer(sub, "agent", skills=[SKILL] if skilled(n, skills) else None), skilled(n, skills) or not skills)
              for n, sub in enumerate(subs)]  # (sub, headers, whether its 204 means the inbox is empty)
    groups = [tokens[i::processes] for i in range(processes)]
    workers = [ctx.Process(target=agents_process, args=(url, path, g, shared_pool, ready, go, stop_at, empty, out),
                           daemon=True) for g in groups if g]
    launched = time.monotonic()
    for w in workers:
        w.start()
    try:
        for _ in workers:
            await asyncio.to_thread(ready.get, True, START_TIMEOUT_S)
        startup_s = time.monotonic() - launched
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        busy_before = machine_busy()
        started = time.monotonic()
        stop_at.value = started + seconds
        go.set()
        parts, failures = await _collect(workers, out, len(workers), started + seconds + grace_s)
        elapsed = max((p["ended"] for p in parts), default=time.monotonic()) - started
        busy_after = machine_busy()
        cpu_used = {name: (cpu_seconds(pid) or 0) - (cpu_before[name] or 0)
                    for name, pid in pids.items() if pid is not None}
    finally:
        for w in workers:
            w.join(timeout=5)
            if w.is_alive():
                w.kill()
    latencies = [x for p in parts for x in p["latencies"]]
    claimed = [tuple(c) for p in parts for c in p["claimed"]]
    errors: Counter[int | str] = Counter()
    for p in parts:
        errors.update({(int(k) if str(k).isdigit() else str(k)): v for k, v in p["errors"].items()})
    n = max(len(claimed), 1)
    cpu_used["clients"] = sum(p["cpu_s"] for p in parts)
    busy = busy_after[0] - busy_before[0]
    return {"agents": agents, "client_processes": len(workers), "shared_pool": shared_pool, "path": path,
            "claims": len(claimed), "elapsed_s": round(elapsed, 2), "client_startup_s": round(startup_s, 1),
            "claims_per_s": round(len(claimed) / elapsed, 1) if elapsed > 0 else None, "inbox_emptied": empty.is_set(),
            **summary_ms(latencies), "claimed": claimed, "errors": dict(errors), "client_failures": failures,
            "cpu_share": {k: round(v / elapsed, 2) for k, v in cpu_used.items()} if elapsed > 0 else {},
            "cpu_ms_per_claim": {k: round(v * 1000 / n, 2) for k, v in cpu_used.items()},
            "machine_busy_share": round(busy / max(busy_after[1] - busy_before[1], 1e-9), 2),
            "machine_cpu_ms_per_claim": round(busy * 1000 / n, 2)}
