"""Callback claims: N concurrent agents calling ``POST /v1/callbacks/claim-next`` on the callbacks gateway.

The callbacks service runs as a separate process. One callback is requested through the gateway
(``POST /v1/callbacks`` as a channel, account given, no window) and waited for until the service queued it;
its stored work item is then cloned into ``inbox`` queued items (new ids and numbers, empty outbox), so the
general inbox holds what a busy center's would. For each level of concurrency the clones are reset to
queued, then every agent (its own token) claims in a loop until the level's time is up or the inbox
answers 204. Figures: successful claims per second, p50/p99 of a claim's response time, and double
assignments counted from the responses (a callback id returned to more than one claim) and checked
against the stored owners.

Every level runs ``repeats`` interleaved pairs against the baseline route of the same service
(``POST /bench/claim-baseline``, mounted by ``IC_CALLBACKS_BENCH_CLAIM_BASELINE``: one ``find_one_and_update``
on the inbox index behind the same gateway stack), baseline first in odd pairs, claim-next first in even
ones; reported per level: the median and spread of both rates and of the pair ratios. Then the largest level
once more with one httpx pool shared by all agents in one process: the gateway must not reset a connection.

The clones and their resets are written straight to the ``callbacks`` collection; a reset raises each
clone's ``_version``, as every write of the service's store does.

With ``skills`` (``--claim-skills``, routing on) every clone needs the skill ``billing`` and every second agent
has it in its token; the others are offered nothing (their 204 ends only their own loop; the baseline route
selects with the same routing rule). ``unqualified_claims`` counts items that went to an agent without the
skill (must be 0). Without it the clones need no skill, so the figures compare with earlier runs, and then
(``skill_levels``, the default of ``make bench``) every level runs once more with routing on, on the same clones,
reported as ``skill_levels``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from icsuite_chassis.testing import bearer
from icsuite_callbacks.domain import Actor
from icsuite_callbacks.handlers import CallbacksService, claim_next
from icsuite_callbacks.projections import Identifications
from icsuite_callbacks.repository import COLLECTION, PROFILES, QUEUED, SLOTS, ProfileCodec, SlotsCodec, WorkItemCodec
from icsuite_chassis.store import MongoAggregateStore
from pymongo import AsyncMongoClient

from .claims_clients import BASELINE_PATH, CLAIM_PATH, GRACE_S, SKILL, drive, skilled
from .common import log, running_service, summary_ms
from .stats import ratios, spread

PREFIX = "bench-cb-"


async def seed(client: httpx.AsyncClient, db: Any, count: int, skills: bool = False) -> None:
    accepted = await client.post("/v1/callbacks", headers=bearer("bench-web", "channel"),
                                 json={"callback_number": "+4930555000001", "account_id": "acc-bench-1",
                                       "reason_code": "billing_question"})
    accepted.raise_for_status()
    callback_id = accepted.json()["callback_id"]
    deadline = time.monotonic() + 60
    while True:
        item = await client.get(f"/v1/callbacks/{callback_id}", headers=bearer("bench-sup", "supervisor"))
        if item.status_code == 200 and item.json().get("status") == "queued":
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the seed callback did not become queued: {item.status_code} {item.text[:300]}")
        await asyncio.sleep(0.2)
    template = await db.callbacks.find_one({"_id": callback_id})
    template = {k: v for k, v in template.items() if k not in ("_id", "_outbox", "_applied")}
    template["skill"] = SKILL if skills else None  # the seed profile's skill only with routing on
    for start in range(0, count, 1000):
        await db.callbacks.insert_many([
            {**template, "_id": f"{PREFIX}{i:06d}", "request_id": f"{PREFIX}req-{i:06d}",
             "callback_id": f"{PREFIX}{i:06d}", "callback_number": f"+4930556{i:06d}", "status": "queued",
             "owner": None}
            for i in range(start, min(count, start + 1000))], ordered=False)


async def reset(db: Any) -> None:
    await db.callbacks.update_many({"_id": {"$regex": f"^{PREFIX}"}},
                                   {"$set": {"status": "queued", "owner": None},
                                    "$inc": {"_version": 1}})  # a new state is a new version, as the store writes it
    # written past the store: raise the claim queue's mark as the store does, or heads read before stay in use
    await MongoAggregateStore(db, COLLECTION, WorkItemCodec(), queue=QUEUED).raise_mark()


async def level(url: str, db: Any, agents: int, seconds: float, processes: int,
                pids: dict[str, int | None], shared_pool: bool = False, path: str = CLAIM_PATH,
                grace_s: float = GRACE_S, skills: bool = False) -> dict[str, Any]:
    await reset(db)
    figures = await drive(url, agents, seconds, processes, pids, shared_pool, path, grace_s, skills)
    claimed = figures.pop("claimed")
    per_item = Counter(callback_id for callback_id, _ in claimed)
    doubles = sum(1 for count in per_item.values() if count > 1)
    stored = {d["_id"]: d.get("owner") async for d in db.callbacks.find(
        {"_id": {"$in": list(per_item)}}, {"owner": 1})}
    owner_mismatch = sum(1 for callback_id, sub in claimed if stored.get(callback_id) != sub)
    examples = [{"callback_id": i, "returned_to": sorted(sub for c, sub in claimed if c == i), "stored_owner": stored.get(i)}
                for i, count in per_item.items() if count > 1][:5]
    unqualified = sum(1 for _, sub in claimed if skills and not skilled(int(sub.rsplit("-", 1)[1]), skills))
    return {**figures, "double_assignments": doubles, "owner_mismatch": owner_mismatch, "double_examples": examples,
            "service_cpu_share": figures["cpu_share"].get("service"), "unqualified_claims": unqualified}


async def driver_level(db: Any, agents: int, seconds: float, skills: bool = False) -> dict[str, Any]:
    """The service's own claim handler (``handlers.claim_next``: the store's ``change_first`` on the inbox
    order with the domain's claim) straight against MongoDB, no HTTP."""
    await reset(db)
    svc = CallbacksService(items=MongoAggregateStore(db, COLLECTION, WorkItemCodec(), queue=QUEUED),
                           profiles=MongoAggregateStore(db, PROFILES, ProfileCodec()),
                           slots=MongoAggregateStore(db, SLOTS, SlotsCodec()), identifications=Identifications.on_mongo(db))
    latencies: list[float] = []
    claimed: list[str] = []
    lacking: list[str] = []  # items that went to an agent without the skill they need (must stay empty)
    stop_at = time.perf_counter() + seconds

    async def agent(n: int) -> None:
        actor = Actor(id=f"bench-driver-{n}", skills=frozenset({SKILL}) if skilled(n, skills) else frozenset())
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            item = await claim_next(svc, actor)
            latencies.append(time.perf_counter() - started)
            if item is None:
                return
            claimed.append(item.callback_id)
            if item.routing.skill is not None and item.routing.skill not in actor.skills:
                lacking.append(item.callback_id)

    started = time.perf_counter()
    await asyncio.gather(*(agent(n) for n in range(agents)))
    elapsed = time.perf_counter() - started
    return {"agents": agents, "claims": len(claimed), "claims_per_s": round(len(claimed) / elapsed, 1),
            **summary_ms(latencies), "double_assignments": sum(1 for c in Counter(claimed).values() if c > 1),
            "unqualified_claims": len(lacking)}


def _summarise(n: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One level: the rates of claim-next and the baseline and the pair ratios, each as median and spread."""
    suite = [r["suite"] for r in runs]
    base = [r["baseline"] for r in runs]
    rate = lambda rs: [r.get("claims_per_s") for r in rs]  # noqa: E731
    return {"agents": n, "suite": spread(rate(suite), 1), "baseline": spread(rate(base), 1),
            "ratio": spread(ratios(rate(suite), rate(base))),
            "suite_p99_ms": spread([r.get("p99_ms") for r in suite], 1),
            "baseline_p99_ms": spread([r.get("p99_ms") for r in base], 1),
            "double_assignments": sum(r.get("double_assignments", 0) for r in suite + base),
            "unqualified_claims": sum(r.get("unqualified_claims", 0) for r in suite + base),
            "owner_mismatch": sum(r.get("owner_mismatch", 0) for r in suite + base),
            "errors": [r.get("errors") for r in suite + base if r.get("errors")],
            "failures": [f for r in suite + base for f in (r.get("client_failures") or [])
                         + ([r["error"]] if "error" in r else [])],
            "runs": runs}


async def _one(url: str, db: Any, n: int, seconds: float, processes: int, pids: dict[str, int | None],
               path: str, shared: bool = False, skills: bool = False) -> dict[str, Any]:
    try:
        return await level(url, db, n, seconds, processes, pids, shared, path, skills=skills)
    except Exception as exc:  # a run that fails is reported, the run goes on
        return {"agents": n, "path": path, "shared_pool": shared, "error": repr(exc)}


async def _levels(url: str, db: Any, agents: list[int], seconds: float, processes: int,
                  pids: dict[str, int | None], repeats: int, skills: bool) -> list[dict[str, Any]]:
    """Per level ``repeats`` interleaved pairs of baseline and claim-next runs (baseline first in odd pairs)."""
    levels = []
    routed = ", routing on" if skills else ""
    for n in agents:
        runs = []
        for rep in range(repeats):
            order = ("baseline", "suite") if rep % 2 == 0 else ("suite", "baseline")
            run: dict[str, Any] = {}
            for side in order:
                path = BASELINE_PATH if side == "baseline" else CLAIM_PATH
                log(f"claims: {n} agents{routed}, pair {rep + 1}/{repeats}, {side} ({path}), up to {seconds:.0f} s")
                run[side] = await _one(url, db, n, seconds, processes, pids, path, skills=skills)
                log(f"claims: {side} {run[side].get('claims_per_s')}/s, errors {run[side].get('errors')}"
                    f"{', ' + run[side]['error'] if 'error' in run[side] else ''}")
            runs.append(run)
        levels.append(_summarise(n, runs))
    return levels


async def run_claims(stack_env: dict[str, str], logs: Path, *, agents: list[int], seconds: float,
                     processes: int = 2, repeats: int = 3, inbox: int = 1000,
                     stack_pids: dict[str, int | None] | None = None, shared_check: bool = True,
                     driver: bool = False, stub_seconds: float = 0.0, skills: bool = False,
                     skill_levels: bool = False) -> dict[str, Any]:
    """Every level with routing off (``skills``: on), then with ``skill_levels`` every level once more with it on."""
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    results: dict[str, Any] = {"inbox": inbox, "repeats": repeats, "client_processes": processes, "levels": [],
                               "driver_levels": [], "stub_levels": [], "skills": skills}
    extra = {"IC_CALLBACKS_BENCH_CLAIM_BASELINE": "true"}
    try:
        with running_service("callbacks", stack_env, logs, extra=extra) as service:
            db = mongo[service.database]
            pids = {"service": service.process.pid, **(stack_pids or {})}
            async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
                log(f"claims: seeding {inbox} queued callbacks")
                await seed(client, db, inbox, skills)
                sample = await client.get(f"/v1/callbacks/{PREFIX}000000", headers=bearer("bench-sup", "supervisor"))
                sample.raise_for_status()
                template = sample.content.replace(f"{PREFIX}000000".encode(), b"@ID@", 1)
            results["levels"] = await _levels(service.url, db, agents, seconds, processes, pids, repeats, skills)
            if shared_check and agents:
                n = max(agents)
                log(f"claims: {n} agents on one shared httpx pool in one process (gateway resets?)")
                results["shared_pool_check"] = await _one(service.url, db, n, seconds, 1, pids, CLAIM_PATH, True,
                                                          skills)
                results["shared_pool_check"].pop("claimed", None)
                log(f"claims: shared pool errors {results['shared_pool_check'].get('errors')}")
            if skill_levels and not skills:  # routing on (issue 17): the same clones, now needing the skill
                await db.callbacks.update_many({"_id": {"$regex": f"^{PREFIX}"}}, {"$set": {"skill": SKILL}})
                results["skill_levels"] = await _levels(service.url, db, agents, seconds, processes, pids, repeats,
                                                        True)
                await db.callbacks.update_many({"_id": {"$regex": f"^{PREFIX}"}}, {"$set": {"skill": None}})
            for n in agents if driver else []:
                log(f"claims: driver level (the service's claim handler without HTTP), {n} coroutines")
                results["driver_levels"].append(await driver_level(db, n, seconds, skills))
        if stub_seconds > 0:
            from .claims_stub import stub_level

            for n in agents:
                results["stub_levels"].append(await stub_level(template, n, stub_seconds, processes))
    finally:
        await mongo.close()
    return results
