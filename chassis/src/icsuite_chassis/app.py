"""The FastAPI app factory every gateway uses: probes, metrics, problem details, size limit, AsyncAPI."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import audit_api
from .asgi_status import StatusOf
from .asyncapi import build_asyncapi
from .asyncapi_page import render_asyncapi_page
from .audit import AUDIT_INDEXES, AuditLog, AuditTrail
from .auth import TokenVerifier
from .cursor_signing import CursorScope, cursor_key
from .metrics import HTTP_LATENCY, HTTP_REQUESTS
from .openapi_docs import document_security_and_problems
from .problems import install_problem_handlers, problem_response
from .runtime import ServiceRuntime
from .tracing import TraceRequests, configure_tracing, flush_traces

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


class _BodyTooLarge(Exception):
    pass


class RequestSizeLimit:
    """Answers 413 (problem details) to a request body larger than ``limit`` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(None, status=413, title="Payload too large", slug="payload-too-large",
                                    detail=f"the request body exceeds {self.limit} bytes")
        await response(scope, receive, send)


class HttpMetrics:
    """Counts and times requests by route template (never by raw path, to keep label cardinality low)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = StatusOf(send)
        try:
            await self.app(scope, receive, status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            HTTP_REQUESTS.labels(scope["method"], route, str(status.code)).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


def _is_probe(scope: Scope) -> bool:
    return scope.get("path") in PROBES


def create_app(runtime: ServiceRuntime, *, title: str, description: str, routers: Sequence[APIRouter],
               version: str = "1.0.0", state: dict[str, Any] | None = None) -> FastAPI:
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_tracing(settings.service_name)
        await runtime.start()
        await audit_log.start()
        try:
            yield
        finally:
            await audit_log.stop()
            await runtime.stop()
            flush_traces()

    audit_log = AuditLog(runtime.db, queue_size=settings.audit_queue_size,
                         retention_days=settings.audit_retention_days, linger_s=settings.audit_linger_s)
    runtime.indexes.extend(AUDIT_INDEXES)
    runtime.add_job("audit-retention", audit_log.purge, settings.audit_purge_interval_s)
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan,
                  telemetry={"exclude": _is_probe})  # FastAPI's own server spans, when a tracer is installed
    app.state.runtime = runtime
    app.state.audit_log = audit_log
    app.state.token_verifier = TokenVerifier.from_settings(settings)
    for key, value in (state or {}).items():
        setattr(app.state, key, value)
    install_problem_handlers(app)
    app.add_middleware(AuditTrail, log=audit_log)
    app.add_middleware(CursorScope, key=cursor_key(settings.cursor_signing_secret, settings.service_name))
    app.add_middleware(RequestSizeLimit, limit=settings.max_request_bytes)
    app.add_middleware(HttpMetrics)
    app.add_middleware(TraceRequests)
    asyncapi = build_asyncapi(title=f"{title} events", version=version, consumes=runtime.consumes,
                              produces=runtime.produces, bootstrap=settings.kafka_bootstrap_servers)

    @app.get("/healthz", tags=["probes"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["probes"], summary="Kafka and MongoDB are reachable",
             responses={503: {"description": "a dependency is unreachable"}})
    async def readyz(request: Request) -> Response:
        checks = await runtime.readiness()
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return problem_response(request, status=503, title="Not ready", slug="not-ready",
                                detail="a dependency is unreachable", checks=checks)

    @app.get("/metrics", tags=["probes"], summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/asyncapi.json", tags=["docs"], summary="The AsyncAPI document of this service's topics")
    async def asyncapi_document() -> dict[str, Any]:
        return asyncapi

    asyncapi_page = render_asyncapi_page(asyncapi)

    @app.get("/asyncapi", include_in_schema=False)
    async def asyncapi_viewer() -> HTMLResponse:
        return HTMLResponse(asyncapi_page)

    for router in [*routers, audit_api.router]:
        app.include_router(router)
    document_security_and_problems(app, unauthenticated=PROBES | {"/asyncapi.json"})
    return app
