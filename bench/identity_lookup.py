"""Benchmark: phone lookup of the identity service at 100,000 and 1,000,000 accounts.

Loads N accounts (bulk inserts of the same documents and lookup documents the service writes), then
prints p50 and p99 of a phone lookup through the driver (the service's own query code against MongoDB)
and through the gateway (``GET /v1/accounts/search?phone=``, the service running as a subprocess).

    uv run python bench/identity_lookup.py                      # 100,000 and 1,000,000
    uv run python bench/identity_lookup.py --accounts 100000 --lookups 2000

Uses ``MONGODB_URI`` and ``KAFKA_BOOTSTRAP_SERVERS`` when both are set; otherwise it starts a local
stack (MongoDB in memory without oplog, heap ``IC_BENCH_MONGO_HEAP``, default sized by :mod:`bench.memory`)
and stops it at the end.
Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from icsuite_chassis.testing import bearer
from icsuite_identity.domain.accounts import account_from_snapshot
from icsuite_identity.domain.normalize import phone_to_e164
from icsuite_chassis.mongo import ensure_indexes
from icsuite_identity.repository import ACCOUNTS, INDEXES, codec, mongo_stores
from icsuite_identity.repository.merges import MERGE_INDEXES
from icsuite_identity.domain.ranking import SearchCriteria
from icsuite_identity.repository.reads import Reads
from icsuite_identity.repository.search import AccountSearch
from pymongo import AsyncMongoClient

FIRST = ["Erika", "Max", "Jürgen", "Élodie", "Ana", "Pablo", "Mehmet", "Zoë", "Lars", "Ingrid", "Tomás", "Aiko"]
LAST = ["Mustermann", "Müller", "Schmidt", "Groß", "Núñez", "Fontaine", "Yılmaz", "Berg", "Novák", "Sato"]
BATCH = 10_000


def national(i: int) -> str:
    return f"030 {i:08d}"


Lookups = dict[str, list[tuple[str, str | None]]]


def build_batch(start: int, stop: int, rng: random.Random) -> tuple[list[dict[str, Any]], Lookups]:
    accounts: list[dict[str, Any]] = []
    lookups: Lookups = defaultdict(list)
    for i in range(start, stop):
        account_id = f"bench-{i:07d}"
        record = account_from_snapshot(
            account_id=account_id, kind="person", name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            phones=[national(i)], emails=[f"customer{i}@example.org"],
            address={"street": f"Hauptstraße {i % 300 + 1}", "postcode": f"{rng.randrange(10000, 99999)}",
                     "city": "Berlin", "country": "DE"},
            flags=[], status="active", source_version=1, default_region="DE")
        accounts.append({"_id": account_id, **codec(ACCOUNTS).encode(record), "_version": 1})
        labels = record.key_labels()
        for key in record.keys():
            lookups[key].append((account_id, labels.get(key)))
    return accounts, lookups


async def load(db: Any, n: int) -> float:
    """Insert ``n`` accounts and their lookup documents; the next batch is built while the server stores
    the last one (at most two inserts in flight). Returns the seconds it took.

    The store's indexes are created first, as in a database the service has always run on: built after the
    load, they held the service's start (55 s at 100,000 accounts, load average 30), which at a million would
    outlast the readiness wait."""
    started = time.perf_counter()
    await ensure_indexes(db, (*INDEXES, *MERGE_INDEXES))
    rng = random.Random(n)
    all_lookups: Lookups = defaultdict(list)
    pending: set[asyncio.Task[Any]] = set()

    async def insert(collection: Any, documents: list[dict[str, Any]]) -> None:
        while len(pending) >= 2:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            pending.difference_update(done)
            for task in done:
                task.result()
        pending.add(asyncio.create_task(collection.insert_many(documents, ordered=False)))

    for start in range(0, n, BATCH):
        accounts, lookups = build_batch(start, min(n, start + BATCH), rng)
        await insert(db.accounts, accounts)
        for key, ids in lookups.items():
            all_lookups[key].extend(ids)
    items = list(all_lookups.items())
    for start in range(0, len(items), BATCH):
        await insert(db.lookups, [_lookup_document(k, entries) for k, entries in items[start:start + BATCH]])
    for task in asyncio.as_completed(list(pending)):
        await task
    return time.perf_counter() - started


def _lookup_document(key: str, entries: list[tuple[str, str | None]]) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": key, "key": key, "ids": [i for i, _ in entries], "_version": 1}
    labels = {i: label for i, label in entries if label is not None}
    if labels:
        doc["labels"] = labels
    return doc


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * len(ordered))) - 1)]
    return statistics.median(ordered), p99


async def driver_lookups(db: Any, n: int, count: int) -> tuple[float, float]:
    reads = Reads(mongo_stores(db))
    rng, samples = random.Random(1), []
    for _ in range(count):
        i = rng.randrange(n)
        started = time.perf_counter()
        found = await reads.by_phone(phone_to_e164(national(i), "DE"))
        samples.append((time.perf_counter() - started) * 1000)
        assert [a.account_id for a in found] == [f"bench-{i:07d}"], found
    return percentiles(samples)


async def driver_name_lookups(db: Any, n: int, count: int) -> tuple[float, float]:
    """A name with one typing error (a letter dropped from the surname) at the account's postcode."""
    stores = mongo_stores(db)
    search = AccountSearch(Reads(stores), "DE")
    rng, samples = random.Random(3), []
    for _ in range(count):
        account_id = f"bench-{rng.randrange(n):07d}"
        account = (await stores.accounts.get(account_id)).state  # type: ignore[union-attr]
        first, last = account.name.split(" ", 1)
        typo = f"{first} {last[:-2]}{last[-1]}"
        started = time.perf_counter()
        ranked, _ = await search.search(SearchCriteria(name=typo, postcode=account.address["postcode"]))
        samples.append((time.perf_counter() - started) * 1000)
        assert account_id in [c.account_id for c in ranked], (typo, ranked)
    return percentiles(samples)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def gateway_lookups(env: dict[str, str], database: str, n: int, count: int) -> tuple[float, float]:
    port = free_port()
    child_env = {**os.environ, **env, "IC_IDENTITY_PORT": str(port), "IC_IDENTITY_MONGODB_DATABASE": database,
                 "IC_IDENTITY_CONSUMER_GROUP_PREFIX": f"bench-{uuid.uuid4().hex[:8]}.",
                 "IC_IDENTITY_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "icsuite_identity.main"], env=child_env)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            await wait_ready(client)
            headers, rng, samples = bearer("bench", "agent"), random.Random(2), []
            for _ in range(50):  # warm up
                await client.get("/v1/accounts/search", params={"phone": national(0)}, headers=headers)
            for _ in range(count):
                i = rng.randrange(n)
                started = time.perf_counter()
                response = await client.get("/v1/accounts/search", params={"phone": national(i)}, headers=headers)
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200 and response.json()["items"][0]["account_id"] == f"bench-{i:07d}"
        return percentiles(samples)
    finally:
        server.terminate()
        server.wait(timeout=30)


async def wait_ready(client: httpx.AsyncClient, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.3)
    raise RuntimeError("the identity service did not become ready")


async def run(env: dict[str, str], sizes: list[int], count: int) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(env["MONGODB_URI"], tz_aware=True)
    print(f"{'accounts':>10} {'load s':>8} {'driver p50':>11} {'driver p99':>11} {'gateway p50':>12} "
          f"{'gateway p99':>12}  (ms, {count} lookups each)", flush=True)
    try:
        for n in sizes:
            database = f"bench_identity_{n}_{uuid.uuid4().hex[:6]}"
            db = client[database]
            loaded = await load(db, n)
            d50, d99 = await driver_lookups(db, n, count)
            n50, n99 = await driver_name_lookups(db, n, count)
            g50, g99 = await gateway_lookups(env, database, n, count)
            print(f"{n:>10,} {loaded:>8.1f} {d50:>11.2f} {d99:>11.2f} {g50:>12.2f} {g99:>12.2f}  "
                  f"fuzzy name p50 {n50:.2f} p99 {n99:.2f}", flush=True)
            await client.drop_database(database)
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--lookups", type=int, default=2000)
    args = parser.parse_args()
    if os.environ.get("MONGODB_URI") and os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        env = {"MONGODB_URI": os.environ["MONGODB_URI"], "KAFKA_BOOTSTRAP_SERVERS": os.environ["KAFKA_BOOTSTRAP_SERVERS"]}
        asyncio.run(run(env, args.accounts, args.lookups))
        return
    from icsuite_devstack import config
    from icsuite_devstack.stack import start_stack

    from bench import memory

    config.MONGO_HEAP = os.environ.get("IC_BENCH_MONGO_HEAP") or f"{memory.mongo_heap_gb(args.accounts)}g"
    os.environ.setdefault("IC_MONGO_OPLOG", "0")  # no change stream needed; the oplog would double memory
    with tempfile.TemporaryDirectory(prefix="identity-bench-") as workdir:
        stack = start_stack(Path(workdir), mongo_memory=True)
        try:
            stack.create_topics()
            asyncio.run(run(stack.env(), args.accounts, args.lookups))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
