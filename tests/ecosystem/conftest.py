"""The five gateways' apps, built as ``main`` builds them but never started: their documents need no I/O."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

SERVICES = ("identity", "interactions", "callbacks", "followups", "alerts")


def build_service_app(service: str) -> FastAPI:
    bootstrap = importlib.import_module(f"icsuite_{service}.bootstrap")
    settings_module = importlib.import_module(f"icsuite_{service}.settings")
    settings_class = next(value for name, value in vars(settings_module).items()
                          if name.endswith("Settings") and name != "ServiceSettings"
                          and getattr(value, "__module__", "") == settings_module.__name__)
    return bootstrap.build_app(settings_class())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def service_apps() -> dict[str, FastAPI]:
    return {service: build_service_app(service) for service in SERVICES}


@pytest.fixture(scope="session")
def documents(service_apps: dict[str, FastAPI]) -> dict[str, dict[str, Any]]:
    """service -> {"openapi": ..., "asyncapi": ...}, as the gateways serve them over HTTP."""

    async def fetch(app: FastAPI) -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app)  # no lifespan: nothing connects
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return {name: (await client.get(f"/{name}.json")).raise_for_status().json()
                    for name in ("openapi", "asyncapi")}

    return {service: asyncio.run(fetch(app)) for service, app in service_apps.items()}
