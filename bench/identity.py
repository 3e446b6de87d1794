"""Identification: phone lookup at N accounts, through the identity gateway and at the driver level.

Reuses :mod:`bench.identity_lookup` (the identity engineer's benchmark): N accounts are bulk-inserted as the
service stores them (account documents plus a lookup document per normalized key), then ``lookups``
random phone lookups run through ``AccountQueries.by_phone`` against MongoDB (driver level) and through
``GET /v1/accounts/search?phone=`` of the service running as a separate process (one request at a time,
after 50 warm-up requests). Each answer is checked to be the right account.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pymongo import AsyncMongoClient

from . import identity_lookup
from .common import log


async def run_identity(stack_env: dict[str, str], *, accounts: list[int], lookups: int) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack_env["MONGODB_URI"], tz_aware=True)
    sizes = []
    try:
        for n in accounts:
            database = f"bench_identity_{n}_{uuid.uuid4().hex[:6]}"
            db = client[database]
            log(f"identity: loading {n:,} accounts")
            loaded = await identity_lookup.load(db, n)
            log(f"identity: loaded in {loaded:.1f} s; {lookups} driver lookups")
            started = time.perf_counter()
            d50, d99 = await identity_lookup.driver_lookups(db, n, lookups)
            log(f"identity: driver p50 {d50:.2f} ms p99 {d99:.2f} ms; {lookups} gateway lookups")
            g50, g99 = await identity_lookup.gateway_lookups(stack_env, database, n, lookups)
            log(f"identity: gateway p50 {g50:.2f} ms p99 {g99:.2f} ms")
            sizes.append({"accounts": n, "load_s": round(loaded, 1), "lookups": lookups,
                          "driver_p50_ms": round(d50, 2), "driver_p99_ms": round(d99, 2),
                          "gateway_p50_ms": round(g50, 2), "gateway_p99_ms": round(g99, 2),
                          "lookup_s": round(time.perf_counter() - started, 1)})
            await client.drop_database(database)
    finally:
        await client.close()
    return {"sizes": sizes}
