"""Identification: phone and fuzzy-name lookups at N accounts, through the identity gateway and at the driver level.

N accounts are bulk-inserted as the service stores them (:func:`bench.identity_lookup.load`: account
documents plus a lookup document per normalized key). The identity service then runs as a separate process
on that database, its consumer groups starting at the end of its topics (:func:`start_at_the_end`: the
events earlier sections left there are not this section's work; ``BENCH_IDENTITY_REPLAY=1`` keeps them).
Per kind of lookup, ``rounds`` rounds, each with ``lookups`` random lookups one at a time at the driver level
(the service's ``AccountSearch.search`` over its stores and merge marks, with the same criteria as the route)
and the same lookups through the gateway (``GET /v1/accounts/search?phone=`` and ``?name=&postcode=``),
the order alternating per round. The name is the account's surname with one letter dropped (a typing error
the fuzzy matching must find). Every answer is checked. Reported: p50 and p99 per round, and the gateway
p99 / driver p99 of each round, as median and spread.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from icsuite_chassis.testing import bearer
from icsuite_identity.consumers import register_consumers
from icsuite_identity.domain.ranking import SearchCriteria
from icsuite_identity.repository import mongo_stores
from icsuite_identity.repository.merges import mongo_merge_stores
from icsuite_identity.repository.reads import Reads
from icsuite_identity.repository.search import AccountSearch
from pymongo import AsyncMongoClient

from . import identity_lookup
from .common import log, pct, running_service, unique
from .offsets import start_groups_at_the_end
from .stats import ratios, spread

Sample = tuple[str, dict[str, str]]  # (expected account id, query parameters)
WARMUP = 30


async def samples(db: Any, n: int, kind: str, count: int, seed: int) -> list[Sample]:
    """``count`` random lookups of ``kind``, prepared before any is timed."""
    rng = random.Random(seed)
    stores = mongo_stores(db)
    out: list[Sample] = []
    for _ in range(count):
        i = rng.randrange(n)
        account_id = f"bench-{i:07d}"
        if kind == "phone":
            out.append((account_id, {"phone": identity_lookup.national(i)}))
            continue
        account = (await stores.accounts.get(account_id)).state  # type: ignore[union-attr]
        first, last = account.name.split(" ", 1)
        out.append((account_id, {"name": f"{first} {last[:-2]}{last[-1]}", "postcode": account.address["postcode"]}))
    return out


def driver(db: Any) -> Callable[[dict[str, str]], Awaitable[list[str]]]:
    """The query the route runs, without HTTP: the service's own search over its stores and merge marks
    (``AccountSearch.search`` with the same criteria), so that the two sides differ only by the gateway."""
    search = AccountSearch(Reads(mongo_stores(db), mongo_merge_stores(db).marks), "DE")

    async def lookup(query: dict[str, str]) -> list[str]:
        ranked, _ = await search.search(SearchCriteria(**query))
        return [c.account_id for c in ranked]

    return lookup


def gateway(http: httpx.AsyncClient) -> Callable[[dict[str, str]], Awaitable[list[str]]]:
    headers = bearer("bench-agent", "agent")

    async def lookup(query: dict[str, str]) -> list[str]:
        response = await http.get("/v1/accounts/search", params=query, headers=headers)
        response.raise_for_status()
        return [item["account_id"] for item in response.json()["items"]]

    return lookup


async def timed(lookup: Callable[[dict[str, str]], Awaitable[list[str]]], batch: list[Sample]) -> list[float]:
    out = []
    for account_id, query in batch:
        started = time.perf_counter()
        found = await lookup(query)
        out.append((time.perf_counter() - started) * 1000)
        if account_id not in found:
            raise AssertionError(f"{query} did not find {account_id}: {found[:5]}")
    return out


class _ConsumerGroups:
    """Records the consumers identity registers (name -> topics), without a runtime."""

    def __init__(self) -> None:
        self.topics: dict[str, tuple[str, ...]] = {}

    def add_consumer(self, name: str, topics: Any, handlers: Any, **options: Any) -> None:
        self.topics[name] = tuple(topics)


async def start_at_the_end(bootstrap: str, prefix: str) -> int:
    """Start the consumer groups the identity service will run with ``prefix`` at the end of their topics
    (:mod:`bench.offsets`). Returns the number of events so skipped."""
    groups = _ConsumerGroups()
    register_consumers(groups, None)  # type: ignore[arg-type]
    return await start_groups_at_the_end(bootstrap, {f"{prefix}identity.{name}": topics
                                                     for name, topics in groups.topics.items()})


async def one_size(stack_env: dict[str, str], logs: Path, db: Any, database: str, n: int, lookups: int,
                   rounds: int) -> dict[str, Any]:
    prefix = unique("bench-") + "."
    figures: dict[str, Any] = {"accounts": n, "backlog_skipped": 0}
    if not os.environ.get("BENCH_IDENTITY_REPLAY"):
        figures["backlog_skipped"] = await start_at_the_end(stack_env["KAFKA_BOOTSTRAP_SERVERS"], prefix)
    extra = {"IC_IDENTITY_CONSUMER_GROUP_PREFIX": prefix}
    with running_service("identity", stack_env, logs, database=database, ready_timeout=90 + n / 5_000,
                         extra=extra) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            sides = {"driver": driver(db), "gateway": gateway(http)}
            for kind in ("phone", "name"):
                warm = await samples(db, n, kind, WARMUP, seed=99)
                for lookup in sides.values():
                    await timed(lookup, warm)
                per: dict[str, list[list[float]]] = {"driver": [], "gateway": []}
                for r in range(rounds):
                    batch = await samples(db, n, kind, lookups, seed=r)
                    for side in ("driver", "gateway") if r % 2 == 0 else ("gateway", "driver"):
                        per[side].append(await timed(sides[side], batch))
                    log(f"identity: {n:,} {kind} round {r + 1}: driver p99 {pct(per['driver'][-1], 99):.2f} ms, "
                        f"gateway p99 {pct(per['gateway'][-1], 99):.2f} ms")
                p99 = {side: [pct(s, 99) for s in runs] for side, runs in per.items()}
                figures[kind] = {f"{side}_{q}_ms": spread([pct(s, int(q[1:])) for s in per[side]], 2)
                                 for side in per for q in ("p50", "p99")}
                figures[kind]["ratio"] = spread(ratios(p99["gateway"], p99["driver"]))
    return figures


async def run_identity(stack_env: dict[str, str], logs: Path, *, accounts: list[int], lookups: int,
                       rounds: int = 3) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    sizes = []
    try:
        for n in accounts:
            database = f"bench_identity_{n}_{uuid.uuid4().hex[:6]}"
            log(f"identity: loading {n:,} accounts")
            loaded = await identity_lookup.load(client[database], n)
            log(f"identity: loaded in {loaded:.1f} s")
            try:
                sizes.append({**await one_size(stack_env, logs, client[database], database, n, lookups, rounds),
                              "load_s": round(loaded, 1)})
            finally:
                await client.drop_database(database)
    finally:
        await client.close()
    return {"sizes": sizes, "rounds": rounds, "lookups": lookups}
