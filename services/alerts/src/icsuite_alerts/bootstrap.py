"""Wires the alerts service: settings, Mongo, broker, repositories, handlers, consumers and the gateway."""

from __future__ import annotations

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.runtime import ServiceRuntime

from . import api
from .settings import AlertsSettings


def build_app(settings: AlertsSettings) -> FastAPI:
    runtime = ServiceRuntime(settings)
    return create_app(runtime, title="alerts", description="The alerts service of the interaction-center suite.",
                      routers=[api.router])
