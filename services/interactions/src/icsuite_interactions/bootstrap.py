"""Wires the interactions service: settings, Mongo, broker, repositories, handlers, consumers and the gateway."""

from __future__ import annotations

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.runtime import ServiceRuntime

from . import api
from .settings import InteractionsSettings


def build_app(settings: InteractionsSettings) -> FastAPI:
    runtime = ServiceRuntime(settings)
    return create_app(runtime, title="interactions", description="The interactions service of the interaction-center suite.",
                      routers=[api.router])
