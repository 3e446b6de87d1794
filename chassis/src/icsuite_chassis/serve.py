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
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=10)
