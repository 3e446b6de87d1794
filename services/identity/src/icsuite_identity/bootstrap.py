"""Wires the identity service: settings, Mongo, broker, repositories, handlers, consumers and the gateway."""

from __future__ import annotations

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_contracts.identity_v1 import TOPIC as IDENTITY

from . import api
from .consumers import CONSUMED_TOPICS, register_consumers
from .handlers import IdentityHandlers
from .queries import AccountQueries
from .repository import INDEXES, OUTBOX_COLLECTIONS, Repositories
from .settings import IdentitySettings


def build_app(settings: IdentitySettings) -> FastAPI:
    runtime = ServiceRuntime(settings, outbox_collections=OUTBOX_COLLECTIONS, indexes=INDEXES,
                             consumes=CONSUMED_TOPICS, produces=(IDENTITY,))
    repos = Repositories(runtime.db)
    handlers = IdentityHandlers(repos=repos, queries=AccountQueries(repos, settings.default_region),
                                kick=runtime.kick_outbox, default_region=settings.default_region)
    register_consumers(runtime, handlers)
    app = create_app(runtime, title="identity",
                     description="Finds, confirms and creates the customer during a contact.",
                     routers=[api.router], state={"handlers": handlers})
    api.install_error_mapping(app)
    return app
