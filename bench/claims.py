"""Callback claims: N concurrent agents calling ``POST /v1/callbacks/claim-next`` on the callbacks gateway.

The callbacks service runs as a separate process. One callback is requested through the gateway
(``POST /v1/callbacks`` as a channel, account given, no window) and waited for until the service queued it;
its stored work item is then cloned into ``inbox`` queued items (new ids and numbers, empty outbox), so the
general inbox holds what a busy center's would. For each level of concurrency the clones are reset to
queued, then every agent (its own token) claims in a loop until the level's time is up or the inbox
answers 204. Figures: successful claims per second, p50/p99 of a claim's response time, and double
assignments counted from the responses (a callback id returned to more than one claim) and checked
against the stored owners.

The clones and their resets are written straight to the ``callbacks`` collection, so the service's own
repair (``WorkItems.repair_claimable``, which its scheduler runs) is called after each to give them their
claimable entries at once, as a real inbox would have them.
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
from icsuite_callbacks.handlers import Deps, claim_next
from icsuite_callbacks.repository import Identifications, OpenRequestsByNumber, ReasonProfiles, WorkItems
from pymongo import AsyncMongoClient

from .common import cpu_seconds, log, running_service, summary_ms

PREFIX = "bench-cb-"


async def seed(client: httpx.AsyncClient, db: Any, count: int) -> None:
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
    for start in range(0, count, 1000):
        await db.callbacks.insert_many([
            {**template, "_id": f"{PREFIX}{i:06d}", "request_id": f"{PREFIX}req-{i:06d}",
             "callback_number": f"+4930556{i:06d}", "status": "queued", "owner": None, "pending_claim": None}
            for i in range(start, min(count, start + 1000))], ordered=False)
    await WorkItems(db).repair_claimable()


async def reset(db: Any) -> None:
    await db.callbacks.update_many({"_id": {"$regex": f"^{PREFIX}"}},
                                   {"$set": {"status": "queued", "owner": None, "pending_claim": None}})
    await WorkItems(db).repair_claimable()


async def level(client: httpx.AsyncClient, db: Any, agents: int, seconds: float, pid: int | None) -> dict[str, Any]:
    await reset(db)
    latencies: list[float] = []
    claimed: list[tuple[str, str]] = []
    errors: Counter[int] = Counter()
    stop_at = time.perf_counter() + seconds
    empty = asyncio.Event()

    async def agent(n: int) -> None:
        sub = f"bench-agent-{n:03d}"
        headers = bearer(sub, "agent")
        while time.perf_counter() < stop_at and not empty.is_set():
            started = time.perf_counter()
            response = await client.post("/v1/callbacks/claim-next", headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code == 200:
                claimed.append((response.json()["callback_id"], sub))
            elif response.status_code == 204:
                empty.set()
            else:
                errors[response.status_code] += 1

    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(agent(n) for n in range(agents)))
    elapsed = time.perf_counter() - started
    cpu_used = (cpu_seconds(pid) or 0) - (cpu_before or 0)
    per_item = Counter(callback_id for callback_id, _ in claimed)
    doubles = sum(1 for count in per_item.values() if count > 1)
    stored = {d["_id"]: d.get("owner") async for d in db.callbacks.find(
        {"_id": {"$in": list(per_item)}}, {"owner": 1})}
    owner_mismatch = sum(1 for callback_id, sub in claimed if stored.get(callback_id) != sub)
    examples = [{"callback_id": i, "returned_to": sorted(sub for c, sub in claimed if c == i), "stored_owner": stored.get(i)}
                for i, count in per_item.items() if count > 1][:5]
    return {"agents": agents, "claims": len(claimed), "elapsed_s": round(elapsed, 2),
            "claims_per_s": round(len(claimed) / elapsed, 1), "inbox_emptied": empty.is_set(),
            **summary_ms(latencies), "double_assignments": doubles, "owner_mismatch": owner_mismatch,
            "double_examples": examples,
            "errors": dict(errors), "service_cpu_share": round(cpu_used / elapsed, 2)}


async def driver_level(db: Any, agents: int, seconds: float) -> dict[str, Any]:
    """The service's own claim handler (``handlers.claim_next``: take an entry, claim its item) straight
    against MongoDB, no HTTP."""
    await reset(db)
    deps = Deps(items=WorkItems(db), profiles=ReasonProfiles(db), identifications=Identifications(db),
                numbers=OpenRequestsByNumber(db), kick=lambda callback_id: None)
    latencies: list[float] = []
    claimed: list[str] = []
    stop_at = time.perf_counter() + seconds

    async def agent(n: int) -> None:
        actor = Actor(id=f"bench-driver-{n}")
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            item = await claim_next(deps, actor)
            latencies.append(time.perf_counter() - started)
            if item is None:
                return
            claimed.append(item.callback_id)

    started = time.perf_counter()
    await asyncio.gather(*(agent(n) for n in range(agents)))
    elapsed = time.perf_counter() - started
    return {"agents": agents, "claims": len(claimed), "claims_per_s": round(len(claimed) / elapsed, 1),
            **summary_ms(latencies), "double_assignments": sum(1 for c in Counter(claimed).values() if c > 1)}


async def run_claims(stack_env: dict[str, str], logs: Path, *, agents: list[int], seconds: float,
                     inbox: int = 1000) -> dict[str, Any]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    results: dict[str, Any] = {"inbox": inbox, "levels": []}
    try:
        with running_service("callbacks", stack_env, logs) as service:
            db = mongo[service.database]
            limits = httpx.Limits(max_connections=max(agents) + 10, max_keepalive_connections=max(agents) + 10)
            async with httpx.AsyncClient(base_url=service.url, timeout=60, limits=limits) as client:
                log(f"claims: seeding {inbox} queued callbacks")
                await seed(client, db, inbox)
                for n in agents:
                    log(f"claims: {n} concurrent agents for up to {seconds:.0f} s")
                    figures = await level(client, db, n, seconds, service.process.pid)
                    log(f"claims: {figures}")
                    results["levels"].append(figures)
                log(f"claims: driver level (the service's claim query without HTTP), {max(agents)} coroutines")
                results["driver"] = await driver_level(db, max(agents), seconds)
                log(f"claims: {results['driver']}")
    finally:
        await mongo.close()
    return results
