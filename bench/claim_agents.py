"""One claim client process (spawned by ``claims_clients.drive``): agents in a loop on one event loop.

It imports only the standard library and httpx, so that a spawned process starts in a moment even on a busy
machine (the suite's packages take seconds to import there).
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
import traceback
from collections import Counter
from typing import Any

import httpx

REQUEST_TIMEOUT_S = 10.0


def agents_process(url: str, path: str, agents: list[tuple[str, dict[str, str], bool]], shared_pool: bool,
                   ready: Any, go: Any, stop_at: Any, empty: Any, out: Any) -> None:
    """One client process: its own event loop and httpx client, running ``agents`` (sub, headers, whether its
    204 means the inbox is empty for everyone) in a loop until ``stop_at`` (time.monotonic, the same clock in
    every process) or until any process saw such a 204 (an agent without the skill ends only its own loop)."""

    async def main() -> dict[str, Any]:
        latencies: list[float] = []
        claimed: list[tuple[str, str]] = []
        errors: Counter[int | str] = Counter()
        # One client (one keep-alive connection) per agent, as each agent's desktop has: httpx's connection
        # pool costs CPU per request that grows with the connections in it. ``shared_pool`` is the earlier
        # design (one client, one pool for every agent), kept to check the gateway under it.
        # One TLS context for all clients (never used on http://): httpx builds one per client otherwise, 0.35 s
        # each on a busy machine, which kept 200 agents from starting for a minute.
        timeout, tls = httpx.Timeout(REQUEST_TIMEOUT_S), ssl.create_default_context()
        if shared_pool:
            shared = httpx.AsyncClient(base_url=url, timeout=timeout, verify=tls, limits=httpx.Limits(
                max_connections=len(agents) + 10, max_keepalive_connections=len(agents) + 10))
            clients = [shared] * len(agents)
        else:
            clients = [httpx.AsyncClient(base_url=url, timeout=timeout, verify=tls,
                                         limits=httpx.Limits(max_connections=1)) for _ in agents]
        try:
            # Before the start: the first request imports what httpx loads lazily (seconds on a busy machine,
            # with the event loop blocked) and each agent opens its keep-alive connection.
            await asyncio.gather(*(_warm(c) for c in set(clients)))
            ready.put(os.getpid())
            await asyncio.to_thread(go.wait)
            deadline = stop_at.value
            cpu_before = time.process_time()

            async def agent(client: httpx.AsyncClient, sub: str, headers: dict[str, str], sees_all: bool) -> None:
                while time.monotonic() < deadline and not empty.is_set():
                    started = time.perf_counter()
                    try:
                        response = await client.post(path, headers=headers)
                    except httpx.TransportError as exc:  # a reset connection is counted, the agent goes on
                        errors[type(exc).__name__] += 1
                        continue
                    latencies.append(time.perf_counter() - started)
                    if response.status_code == 200:
                        claimed.append((response.json()["callback_id"], sub))
                    elif response.status_code == 204:
                        if not sees_all:
                            return
                        empty.set()
                    else:
                        errors[response.status_code] += 1

            running = asyncio.gather(*(agent(c, sub, headers, sees_all)
                                       for c, (sub, headers, sees_all) in zip(clients, agents, strict=True)))
            try:  # requests still in flight a request timeout after the level's end are cut and counted
                await asyncio.wait_for(running, max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT_S)
            except TimeoutError:
                errors["cut at the level's end"] += 1
            ended = time.monotonic()
            cpu = time.process_time() - cpu_before
        finally:
            for c in set(clients):
                await c.aclose()
        return {"latencies": latencies, "claimed": claimed, "errors": dict(errors), "cpu_s": cpu, "ended": ended}

    try:
        out.put(asyncio.run(main()))
    except BaseException:  # the parent reports it with the traceback; the level goes on with the others
        out.put({"failed": traceback.format_exc()})
        raise


async def _warm(client: httpx.AsyncClient) -> None:
    try:
        await client.get("/healthz")
    except httpx.HTTPError:
        pass  # the level reports what fails; warming is only a courtesy
