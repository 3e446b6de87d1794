"""Gateways keep idle keep-alive connections open longer than clients do, so a reused connection is never reset."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from icsuite_chassis.serve import uvicorn_config
from icsuite_chassis.settings import ServiceSettings

pytestmark = pytest.mark.integration
AGENTS = 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connections_idle_past_the_old_server_timeout_are_reused() -> None:
    """200 agents' connections, idle for 6 s (uvicorn's default closes them after 5 s), are used again."""
    app = FastAPI()
    client_ports: set[int] = set()

    @app.get("/ping")
    async def ping(request: Request) -> dict[str, str]:
        assert request.client is not None
        client_ports.add(request.client.port)
        return {"status": "ok"}

    settings = ServiceSettings(service_name="keepalive", port=_free_port())
    server = uvicorn.Server(uvicorn_config(settings, app))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    limits = httpx.Limits(max_connections=AGENTS, max_keepalive_connections=AGENTS, keepalive_expiry=30)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}", limits=limits) as client:
            first = await asyncio.gather(*(client.get("/ping") for _ in range(AGENTS)))
            opened_first = len(client_ports)
            await asyncio.sleep(6)
            second = await asyncio.gather(*(client.get("/ping") for _ in range(AGENTS)))
        assert all(r.status_code == 200 for r in first + second)
        assert opened_first == AGENTS
        # with the server closing idle connections every one would be new (400 in all); a few new ones
        # are normal when the pool hands a request out before an idle connection is returned to it
        assert len(client_ports) < AGENTS * 3 // 2
    finally:
        server.should_exit = True
        await task
