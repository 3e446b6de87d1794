"""Calls to the five gateways with the signed-in user's bearer token; refusals become :class:`GatewayProblem`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from .settings import GATEWAYS, DesktopSettings

_MAX_DETAIL = 2000


@dataclass
class GatewayProblem(Exception):
    """An RFC 9457 problem a gateway answered (or one the desktop made for an unreachable gateway)."""

    status: int
    title: str
    detail: str
    gateway: str
    extensions: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


def problem_of(gateway: str, response: httpx.Response) -> GatewayProblem:
    """The problem details of a refused call; a body that is no problem still gives a readable one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = response.text[:_MAX_DETAIL] or response.reason_phrase
        return GatewayProblem(response.status_code, response.reason_phrase or "Error", text, gateway)
    extensions = {k: v for k, v in body.items() if k not in ("type", "title", "status", "detail", "instance")}
    return GatewayProblem(status=response.status_code, title=str(body.get("title") or response.reason_phrase),
                          detail=str(body.get("detail") or "")[:_MAX_DETAIL], gateway=gateway,
                          extensions=extensions)


def unreachable(gateway: str, exc: Exception) -> GatewayProblem:
    return GatewayProblem(502, "Service unreachable",
                          f"the {gateway} service did not answer ({type(exc).__name__}); try again shortly",
                          gateway)


class Gateways:
    """One HTTP client per gateway; every call carries the caller's token."""

    def __init__(self, settings: DesktopSettings, transport: httpx.AsyncBaseTransport | None = None):
        timeout = httpx.Timeout(settings.gateway_timeout_s)
        self._clients = {
            name: httpx.AsyncClient(base_url=settings.gateway_url(name), timeout=timeout, transport=transport)
            for name in GATEWAYS
        }

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def call(self, gateway: str, method: str, path: str, token: str, *,
                   json: Any = None, params: Mapping[str, Any] | None = None,
                   files: Any = None) -> Any:
        """The decoded JSON answer (None for an empty one); a 4xx/5xx raises its :class:`GatewayProblem`."""
        response = await self.send(gateway, method, path, token, json=json, params=params, files=files)
        if response.status_code >= 400:
            raise problem_of(gateway, response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def send(self, gateway: str, method: str, path: str, token: str, *, json: Any = None,
                   params: Mapping[str, Any] | None = None, files: Any = None) -> httpx.Response:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            return await self._clients[gateway].request(method, path, headers=_bearer(token), json=json,
                                                        params=clean, files=files)
        except httpx.HTTPError as exc:
            raise unreachable(gateway, exc) from None

    @asynccontextmanager
    async def stream(self, gateway: str, path: str, token: str,
                     headers: Mapping[str, str] | None = None) -> AsyncIterator[httpx.Response]:
        """A streamed GET (the alert stream): no read timeout, the caller reads the lines."""
        request_headers = {**_bearer(token), **(headers or {})}
        client = self._clients[gateway]
        timeout = httpx.Timeout(client.timeout.connect, read=None)
        try:
            async with client.stream("GET", path, headers=request_headers, timeout=timeout) as response:
                yield response
        except httpx.HTTPError as exc:
            raise unreachable(gateway, exc) from None


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
