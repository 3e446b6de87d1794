"""Calling the gateways: base URLs, bearer tokens and RFC 9457 problem details as readable errors."""

from __future__ import annotations

import os
from typing import Any, Self

import httpx
from icsuite_chassis.auth import mint_token
from icsuite_chassis.settings import DEVELOPMENT_JWT_SECRET

PORTS = {"identity": 8001, "interactions": 8002, "callbacks": 8003, "followups": 8004, "alerts": 8005}
"""The local ports of CONTRACT.md (``make up``)."""


def default_base_url(service: str) -> str:
    """``IC_<SERVICE>_URL`` if set (a test stack on other ports), else ``http://127.0.0.1:<port>``."""
    return os.environ.get(f"IC_{service.upper()}_URL") or f"http://127.0.0.1:{PORTS[service]}"


def development_token(sub: str, roles: list[str], ttl_s: int = 8 * 3600, *, skills: list[str] | None = None,
                      languages: list[str] | None = None) -> str:
    """A HS256 token signed with ``IC_JWT_SECRET`` or the development secret (as the services verify), with
    the agent's ``skills`` and ``languages`` claims when given."""
    secret = os.environ.get("IC_JWT_SECRET") or DEVELOPMENT_JWT_SECRET
    return mint_token(secret, sub, roles, ttl_s, skills=skills, languages=languages)


class GatewayError(Exception):
    """A call that did not succeed: an HTTP problem (``status`` set) or an unreachable gateway."""

    def __init__(self, message: str, *, status: int | None = None, problem: dict[str, Any] | None = None,
                 url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem or {}
        self.url = url

    def describe(self) -> str:
        """The problem as a person reads it: status and title, detail, then each validation error."""
        if self.status is None:
            return str(self)
        p = self.problem
        title = p.get("title") or httpx.codes.get_reason_phrase(self.status) or "error"
        lines = [f"error: {self.status} {title}"]
        detail = str(p.get("detail") or "")
        if detail and detail.lower() != str(title).lower():
            lines.append(f"  {detail}")
        for error in p.get("errors") or []:
            if isinstance(error, dict) and str(error.get("msg")) in detail:
                continue  # the detail already names it
            if isinstance(error, dict):
                where = ".".join(str(part) for part in error.get("loc", []))
                lines.append(f"  - {where + ': ' if where else ''}{error.get('msg', error)}")
            else:
                lines.append(f"  - {error}")
        extras = {k: v for k, v in p.items() if k not in {"type", "title", "status", "detail", "errors",
                                                           "instance"}}
        lines += [f"  {key}: {value}" for key, value in extras.items()]
        if p.get("type") and p["type"] != "about:blank":
            lines.append(f"  ({p['type']})")
        return "\n".join(lines)


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text.strip()[:500]} if response.text.strip() else {}
    return body if isinstance(body, dict) else {"detail": str(body)}


class Gateway:
    """A synchronous client of one service's gateway."""

    def __init__(self, service: str, base_url: str | None, token: str, *,
                 transport: httpx.BaseTransport | None = None, timeout: float = 10.0) -> None:
        self.service = service
        self.base_url = (base_url or default_base_url(service)).rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout,
                                    headers={"Authorization": f"Bearer {token}",
                                             "Accept": "application/json, application/problem+json"})

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None) -> httpx.Response:
        """The answer of a call that succeeded; :class:`GatewayError` otherwise."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._client.request(method, path, params=clean, json=json)
        except httpx.HTTPError as exc:
            raise GatewayError(f"error: cannot reach {self.service} at {self.base_url} ({exc}); "
                               "is the suite running (make up)?", url=self.base_url + path) from None
        if response.status_code >= 400:
            raise GatewayError(f"{method} {path}: {response.status_code}", status=response.status_code,
                               problem=_problem(response), url=str(response.url))
        return response

    def content(self, path: str) -> bytes:
        """The raw body of a GET (an attachment's bytes)."""
        return self.request("GET", path).content

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
             json: Any = None) -> Any:
        """The parsed JSON answer (``None`` for an empty body); :class:`GatewayError` otherwise."""
        response = self.request(method, path, params=params, json=json)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return {"body": response.text}
