"""Run a service's app with uvicorn: the entry point every ``main.py`` calls."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from .gc_tuning import tune_gc
from .logging import configure_logging
from .settings import ServiceSettings


def serve(settings: ServiceSettings, build_app: Callable[[ServiceSettings], FastAPI]) -> None:
    configure_logging(settings.service_name, settings.log_level, settings.log_json,
                      reveal_personal_data=settings.log_personal_data)
    app = build_app(settings)
    if settings.gc_tuning:
        tune_gc(settings.gc_thresholds)
    uvicorn.Server(uvicorn_config(settings, app)).run()


def uvicorn_config(settings: ServiceSettings, app: FastAPI) -> uvicorn.Config:
    """How every gateway listens: keep-alive connections outlive their clients' pool expiry.

    With uvicorn's default of 5 s, a server closes an idle connection at the same moment as an httpx
    client (keep-alive expiry 5 s) may send its next request on it, and the client sees a reset
    (``httpx.ReadError``); under 200 agents' keep-alive connections that happened many times a minute.
    """
    return uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None, access_log=False,
                          timeout_graceful_shutdown=10, timeout_keep_alive=int(settings.http_keep_alive_s),
                          backlog=settings.http_backlog, limit_concurrency=settings.http_limit_concurrency)
