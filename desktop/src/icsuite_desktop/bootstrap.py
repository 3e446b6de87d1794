"""Wires the desktop: settings, the gateway clients, the token verifier, routes, templates and assets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from icsuite_chassis.app import HttpMetrics, RequestSizeLimit
from icsuite_chassis.auth import TokenVerifier
from icsuite_chassis.logging import get_logger
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import (assets, routes_accounts, routes_admin, routes_auth, routes_callbacks, routes_contact, routes_exports,
               routes_history, routes_live, routes_merges, routes_premises, routes_record, routes_customizing,
               routes_followups, routes_privacy, routes_stream, routes_supervisor)
from .gateways import Gateways
from .live import ContactFeed, run_feed
from .oidc import OidcClient
from .settings import DesktopSettings
from .web import install_error_pages

STATIC = Path(__file__).parent / "static"
_log = get_logger(__name__)


def build_app(settings: DesktopSettings) -> FastAPI:
    gateways = Gateways(settings)
    feed = ContactFeed()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per gateway call drowns the log

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        missing = assets.missing()
        if missing:
            _log.error("browser assets missing; run `python -m icsuite_desktop.assets`", missing=missing)
        reader = asyncio.create_task(run_feed(settings, feed)) if settings.live_contacts else None
        try:
            yield
        finally:
            if reader is not None:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            await gateways.close()

    app = FastAPI(title="icsuite desktop", version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings = settings
    app.state.gateways = gateways
    app.state.contact_feed = feed
    app.state.token_verifier = TokenVerifier.from_settings(settings)
    app.state.oidc = _oidc_client(settings)
    install_error_pages(app)
    app.add_middleware(RequestSizeLimit, limit=settings.max_request_bytes)
    app.add_middleware(HttpMetrics)
    app.middleware("http")(_same_origin_writes)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_probes(app)
    for module in (routes_auth, routes_accounts, routes_contact, routes_callbacks, routes_stream, routes_live, routes_record, routes_history,
                   routes_admin, routes_customizing, routes_followups, routes_supervisor, routes_privacy, routes_premises,
                   routes_merges, routes_exports):
        app.include_router(module.router)
    return app


def _oidc_client(settings: DesktopSettings) -> OidcClient | None:
    if settings.sign_in != "oidc" or not settings.oidc_issuer or not settings.oidc_client_id:
        return None
    return OidcClient(settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret,
                      settings.oidc_scopes)


async def _same_origin_writes(request: Request, call_next):  # type: ignore[no-untyped-def]
    """Refuse a state-changing request sent from another origin (besides the SameSite=Strict cookie)."""
    origin = request.headers.get("origin")
    if request.method not in ("GET", "HEAD", "OPTIONS") and origin and origin != "null":
        if urlsplit(origin).netloc != request.headers.get("host", ""):
            return JSONResponse({"title": "Forbidden", "status": 403, "detail": "cross-origin request refused"},
                                status_code=403, media_type="application/problem+json")
    return await call_next(request)


def _add_probes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        missing = assets.missing()
        if missing:
            return JSONResponse({"status": "not ready", "missing_assets": missing}, status_code=503)
        if app.state.settings.live_contacts and not app.state.contact_feed.positioned.is_set():
            return JSONResponse({"status": "not ready", "waiting_for": "the live contact feed"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
