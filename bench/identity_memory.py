"""Memory per account of the MongoDB-wire server, and the heap the identification section needs.

Loads N accounts as the identification section does (:func:`bench.identity_lookup.load`, with the
indexes the identity service builds when it starts), forces a full GC of the server's JVM (``jcmd``) and
reads the heap in use; then counts the documents per collection and the lookup documents per kind of key.

    uv run python -m bench.identity_memory --accounts 100000 200000      # a local stack, heap 3g
    uv run python -m bench.identity_memory --accounts 100000 --histogram  # + the JVM's biggest classes

The figure per account is the slope between the empty server and each size. :data:`BYTES_PER_ACCOUNT` in
:mod:`bench.memory` comes from here; measure again when the documents the service writes change.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from . import identity_lookup
from .common import log


def heap_used_mb(pid: int) -> float:
    """The JVM's heap in use after two full collections."""
    for _ in range(2):
        subprocess.run(["jcmd", str(pid), "GC.run"], check=True, capture_output=True)
        time.sleep(1)
    info = subprocess.run(["jcmd", str(pid), "GC.heap_info"], check=True, capture_output=True, text=True).stdout
    found = re.search(r"used (\d+)K", info)
    if found is None:
        raise RuntimeError(f"no heap figure in jcmd's answer: {info[:200]}")
    return int(found.group(1)) / 1024


def histogram(pid: int, top: int = 15) -> str:
    out = subprocess.run(["jcmd", str(pid), "GC.class_histogram"], check=True, capture_output=True, text=True).stdout
    return "\n".join(out.splitlines()[1:top + 3])


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


async def documents(db: Any) -> tuple[dict[str, int], dict[str, int]]:
    """Documents per collection, and lookup documents per kind of key (``phone``, ``names-in``...)."""
    counts = {name: await db[name].count_documents({}) for name in await db.list_collection_names()}
    kinds: Counter[str] = Counter()
    async for doc in db.lookups.find({}, {"_id": 1}):
        kinds[doc["_id"].split(":", 1)[0]] += 1
    return counts, dict(kinds)


async def measure(uri: str, pid: int, sizes: list[int], show_histogram: bool) -> list[dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    rows = []
    try:
        empty = heap_used_mb(pid)
        log(f"identity memory: empty server, heap used {empty:.0f} MB")
        for n in sizes:
            db = client[f"bench_identity_memory_{n}"]
            loaded = await identity_lookup.load(db, n)  # with the indexes the service builds
            used = heap_used_mb(pid)
            counts, kinds = await documents(db)
            row = {"accounts": n, "load_s": round(loaded, 1), "heap_used_mb": round(used),
                   "bytes_per_account": round((used - empty) * 1024 * 1024 / n), "rss_mb": round(rss_mb(pid)),
                   "documents": counts, "lookups_by_kind": kinds}
            log(f"identity memory: {row}")
            if show_histogram:
                print(histogram(pid), flush=True)
            rows.append(row)
            await client.drop_database(db.name)
    finally:
        await client.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000, 200_000])
    parser.add_argument("--heap", default="3g", help="the MongoDB-wire server's heap (default 3g)")
    parser.add_argument("--histogram", action="store_true", help="print the biggest classes of the heap per size")
    args = parser.parse_args()
    from icsuite_devstack import config
    from icsuite_devstack.stack import start_stack

    config.MONGO_HEAP = args.heap
    os.environ.setdefault("IC_MONGO_OPLOG", "0")  # as the bench runs it
    with tempfile.TemporaryDirectory(prefix="identity-memory-") as workdir:
        stack = start_stack(Path(workdir), mongo_memory=True)
        try:
            asyncio.run(measure(stack.mongodb_uri, stack.mongo.process.pid, args.accounts, args.histogram))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
