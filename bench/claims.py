"""Callback claims: N concurrent agents calling ``POST /v1/callbacks/claim-next`` on the callbacks gateway.

The callbacks service runs as a separate process. One callback is requested through the gateway
(``POST /v1/callbacks`` as a channel, account given, no window) and waited for until the service queued it;
its stored work item is then cloned into ``inbox`` queued items (new ids and numbers, empty outbox), so the
general inbox holds what a busy center's would. For each level of concurrency the clones are reset to
queued, then every agent (its own token) claims in a loop until the level's time is up or the inbox
answers 204. Figures: successful claims per second, p50/p99 of a claim's response time, and double
assignments counted from the responses (a callback id returned to more than one claim) and checked
against the stored owners.

The clones and their resets are written straight to the ``callbacks`` collection; a reset raises each
clone's ``_version``, as every write of the service's store does.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from icsuite_chassis.testing import bearer
from icsuite_callbacks.domain import Actor
from icsuite_callbacks.handlers import CallbacksService, claim_next
from icsuite_callbacks.projections import Identifications
from icsuite_callbacks.repository import COLLECTION, PROFILES, SLOTS, ProfileCodec, SlotsCodec, WorkItemCodec
from icsuite_chassis.store import MongoAggregateStore
from pymongo import AsyncMongoClient

from icsuite_devstack.processes import free_port

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
             "callback_id": f"{PREFIX}{i:06d}", "callback_number": f"+4930556{i:06d}", "status": "queued",
             "owner": None}
            for i in range(start, min(count, start + 1000))], ordered=False)


async def reset(db: Any) -> None:
    await db.callbacks.update_many({"_id": {"$regex": f"^{PREFIX}"}},
                                   {"$set": {"status": "queued", "owner": None},
                                    "$inc": {"_version": 1}})  # a new state is a new version, as the store writes it


def _client_process(url: str, agents: list[tuple[str, dict[str, str]]], shared_pool: bool, ready: Any, go: Any,
                    stop_at: Any, empty: Any, out: Any) -> None:
    """One client process: its own event loop and httpx client, running ``agents`` (sub, headers) in a loop
    until ``stop_at`` (time.monotonic, the same clock in every process) or until any process saw a 204."""

    async def main() -> dict[str, Any]:
        latencies: list[float] = []
        claimed: list[tuple[str, str]] = []
        errors: Counter[int | str] = Counter()
        # One client (one keep-alive connection) per agent, as each agent's desktop has: httpx's connection
        # pool costs CPU per request that grows with the connections in it (14 ms per request with 200 in one
        # client against a trivial stub, 0.65 ms with 10), which made one shared client the limit.
        # ``shared_pool`` is the earlier design (one client, one pool for every agent), kept to measure it.
        if shared_pool:
            shared = httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(
                max_connections=len(agents) + 10, max_keepalive_connections=len(agents) + 10))
            clients = [shared] * len(agents)
        else:
            clients = [httpx.AsyncClient(base_url=url, timeout=60, limits=httpx.Limits(max_connections=1))
                       for _ in agents]
        try:
            ready.put(os.getpid())
            await asyncio.to_thread(go.wait)
            deadline = stop_at.value
            cpu_before = time.process_time()

            async def agent(client: httpx.AsyncClient, sub: str, headers: dict[str, str]) -> None:
                while time.monotonic() < deadline and not empty.is_set():
                    started = time.perf_counter()
                    try:
                        response = await client.post("/v1/callbacks/claim-next", headers=headers)
                    except httpx.TransportError as exc:  # a reset connection is counted, the agent goes on
                        errors[type(exc).__name__] += 1
                        continue
                    latencies.append(time.perf_counter() - started)
                    if response.status_code == 200:
                        claimed.append((response.json()["callback_id"], sub))
                    elif response.status_code == 204:
                        empty.set()
                    else:
                        errors[response.status_code] += 1

            await asyncio.gather(*(agent(c, sub, headers)
                                   for c, (sub, headers) in zip(clients, agents, strict=True)))
            ended = time.monotonic()
            cpu = time.process_time() - cpu_before
        finally:
            for c in set(clients):
                await c.aclose()
        return {"latencies": latencies, "claimed": claimed, "errors": dict(errors), "cpu_s": cpu, "ended": ended}

    out.put(asyncio.run(main()))


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat (all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / tick, sum(fields) / tick


async def drive(url: str, agents: int, seconds: float, processes: int, pids: dict[str, int | None],
                shared_pool: bool = False) -> dict[str, Any]:
    """``agents`` agents spread over ``processes`` client processes (round robin), each its own event loop, one
    httpx client per agent (or one shared by all, ``shared_pool``); every (callback id, agent) of every process
    is collected. CPU of each process in ``pids``, of the clients themselves and of the machine, per claim."""
    ctx = mp.get_context("spawn")
    ready, out, go, empty = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
    stop_at = ctx.Value("d", 0.0)
    subs = [f"bench-agent-{n:03d}" for n in range(agents)]
    groups = [[(sub, bearer(sub, "agent")) for sub in subs[i::processes]] for i in range(processes)]
    workers = [ctx.Process(target=_client_process, args=(url, g, shared_pool, ready, go, stop_at, empty, out),
                           daemon=True) for g in groups if g]
    for w in workers:
        w.start()
    try:
        for _ in workers:
            await asyncio.to_thread(ready.get, True, 120)
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        busy_before = machine_busy()
        started = time.monotonic()
        stop_at.value = started + seconds
        go.set()
        parts = [await asyncio.to_thread(out.get, True, seconds + 60) for _ in workers]
        elapsed = max(p["ended"] for p in parts) - started
        busy_after = machine_busy()
        cpu_used = {name: (cpu_seconds(pid) or 0) - (cpu_before[name] or 0)
                    for name, pid in pids.items() if pid is not None}
    finally:
        for w in workers:
            w.join(timeout=30)
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
    return {"agents": agents, "client_processes": len(workers), "shared_pool": shared_pool, "claims": len(claimed),
            "elapsed_s": round(elapsed, 2),
            "claims_per_s": round(len(claimed) / elapsed, 1), "inbox_emptied": empty.is_set(),
            **summary_ms(latencies), "claimed": claimed, "errors": dict(errors),
            "cpu_share": {k: round(v / elapsed, 2) for k, v in cpu_used.items()},
            "cpu_ms_per_claim": {k: round(v * 1000 / n, 2) for k, v in cpu_used.items()},
            "machine_busy_share": round(busy / (busy_after[1] - busy_before[1]), 2),
            "machine_cpu_ms_per_claim": round(busy * 1000 / n, 2)}


async def level(url: str, db: Any, agents: int, seconds: float, processes: int,
                pids: dict[str, int | None], shared_pool: bool = False) -> dict[str, Any]:
    await reset(db)
    figures = await drive(url, agents, seconds, processes, pids, shared_pool)
    claimed = figures.pop("claimed")
    per_item = Counter(callback_id for callback_id, _ in claimed)
    doubles = sum(1 for count in per_item.values() if count > 1)
    stored = {d["_id"]: d.get("owner") async for d in db.callbacks.find(
        {"_id": {"$in": list(per_item)}}, {"owner": 1})}
    owner_mismatch = sum(1 for callback_id, sub in claimed if stored.get(callback_id) != sub)
    examples = [{"callback_id": i, "returned_to": sorted(sub for c, sub in claimed if c == i), "stored_owner": stored.get(i)}
                for i, count in per_item.items() if count > 1][:5]
    return {**figures, "double_assignments": doubles, "owner_mismatch": owner_mismatch, "double_examples": examples,
            "service_cpu_share": figures["cpu_share"].get("service")}


async def driver_level(db: Any, agents: int, seconds: float) -> dict[str, Any]:
    """The service's own claim handler (``handlers.claim_next``: the store's ``change_first`` on the inbox
    order with the domain's claim) straight against MongoDB, no HTTP."""
    await reset(db)
    svc = CallbacksService(items=MongoAggregateStore(db, COLLECTION, WorkItemCodec()),
                           profiles=MongoAggregateStore(db, PROFILES, ProfileCodec()),
                           slots=MongoAggregateStore(db, SLOTS, SlotsCodec()), identifications=Identifications.on_mongo(db))
    latencies: list[float] = []
    claimed: list[str] = []
    stop_at = time.perf_counter() + seconds

    async def agent(n: int) -> None:
        actor = Actor(id=f"bench-driver-{n}")
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            item = await claim_next(svc, actor)
            latencies.append(time.perf_counter() - started)
            if item is None:
                return
            claimed.append(item.callback_id)

    started = time.perf_counter()
    await asyncio.gather(*(agent(n) for n in range(agents)))
    elapsed = time.perf_counter() - started
    return {"agents": agents, "claims": len(claimed), "claims_per_s": round(len(claimed) / elapsed, 1),
            **summary_ms(latencies), "double_assignments": sum(1 for c in Counter(claimed).values() if c > 1)}


def _stub_process(port: int, template: bytes, ready: Any) -> None:
    """A trivial HTTP/1.1 keep-alive server (asyncio protocol, uvloop when present) that answers every request
    with 200 and ``template`` (a real claim answer) with a fresh ``callback_id``: what the client costs alone."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    counter = iter(range(1, 1 << 62))
    head, _, tail = template.partition(b"@ID@")

    class Stub(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport, self.buf = transport, b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            while (end := self.buf.find(b"\r\n\r\n")) >= 0:
                length = 0
                for line in self.buf[:end].split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(self.buf) < end + 4 + length:
                    return
                self.buf = self.buf[end + 4 + length:]
                body = b"%sstub-%d%s" % (head, next(counter), tail)
                self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                     b"content-length: %d\r\n\r\n%s" % (len(body), body))

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Stub, "127.0.0.1", port, backlog=1024)
        ready.put(port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def stub_level(template: bytes, agents: int, seconds: float, processes: int,
                     shared_pool: bool = False) -> dict[str, Any]:
    """The same clients against the trivial stub: the client's own ceiling on this machine."""
    ctx = mp.get_context("spawn")
    ready = ctx.Queue()
    port = free_port()
    stub = ctx.Process(target=_stub_process, args=(port, template, ready), daemon=True)
    stub.start()
    try:
        await asyncio.to_thread(ready.get, True, 60)
        figures = await drive(f"http://127.0.0.1:{port}", agents, seconds, processes, {"stub": stub.pid}, shared_pool)
    finally:
        stub.kill()
        stub.join(timeout=10)
    figures.pop("claimed")
    return figures


async def run_claims(stack_env: dict[str, str], logs: Path, *, agents: list[int], seconds: float,
                     processes: list[int], inbox: int = 1000, stack_pids: dict[str, int | None] | None = None,
                     stub_seconds: float = 5.0, compare_shared: bool = True) -> dict[str, Any]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    results: dict[str, Any] = {"inbox": inbox, "levels": [], "driver_levels": [], "stub_levels": []}
    # The earlier client (one process, one httpx pool shared by every agent) first, as the reference.
    configs = [(1, True)] + [(p, False) for p in processes] if compare_shared else [(p, False) for p in processes]
    try:
        with running_service("callbacks", stack_env, logs) as service:
            db = mongo[service.database]
            pids = {"service": service.process.pid, **(stack_pids or {})}
            async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
                log(f"claims: seeding {inbox} queued callbacks")
                await seed(client, db, inbox)
                sample = await client.get(f"/v1/callbacks/{PREFIX}000000", headers=bearer("bench-sup", "supervisor"))
                sample.raise_for_status()
                template = sample.content.replace(f"{PREFIX}000000".encode(), b"@ID@", 1)
            for n in agents:
                for p, shared in configs:
                    log(f"claims: {n} concurrent agents in {p} client processes{' (one shared pool)' if shared else ''}"
                        f" for up to {seconds:.0f} s")
                    try:
                        figures = await level(service.url, db, n, seconds, p, pids, shared)
                    except Exception as exc:  # a level that fails is reported, the run goes on
                        figures = {"agents": n, "client_processes": p, "shared_pool": shared, "error": repr(exc)}
                    log(f"claims: {figures}")
                    results["levels"].append(figures)
            for n in agents:
                log(f"claims: driver level (the service's claim handler without HTTP), {n} coroutines")
                results["driver_levels"].append(await driver_level(db, n, seconds))
                log(f"claims: {results['driver_levels'][-1]}")
            results["driver"] = results["driver_levels"][-1]
        for n in agents:
            for p, shared in configs:
                log(f"claims: stub endpoint (client ceiling), {n} agents in {p} client processes"
                    f"{' (one shared pool)' if shared else ''}, {stub_seconds:.0f} s")
                results["stub_levels"].append(await stub_level(template, n, stub_seconds, p, shared))
                log(f"claims: {results['stub_levels'][-1]}")
    finally:
        await mongo.close()
    return results
