"""Wires the followups service: settings, Mongo, broker, repositories, handlers, consumers and the gateway."""

from __future__ import annotations

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.runtime import ServiceRuntime

from . import api
from .consumers import TOPIC as INTERACTIONS_TOPIC
from .consumers import interaction_handlers
from .handlers import FollowupService, utc_now
from .projection import InteractionProjection
from .repository import FOLLOWUPS, INDEXES, CustomizingRepository, FollowupRepository
from .scheduler import OverdueJob
from .settings import FollowupsSettings

DESCRIPTION = ("Follow-up transactions created from interactions, service tickets, service orders, complaints "
               "and cases: customizing of permitted types, copying control, notes history, overdue reports.")


def build_app(settings: FollowupsSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, outbox_collections=[FOLLOWUPS], indexes=INDEXES,
                             consumes=[INTERACTIONS_TOPIC], produces=["ic.followups.v1"])
    followups = FollowupRepository(runtime.db)
    projection = InteractionProjection(runtime.db)
    service = FollowupService(followups=followups, customizing=CustomizingRepository(runtime.db),
                              interactions=projection, kick=runtime.kick_outbox)
    overdue = OverdueJob(followups, kick=runtime.kick_outbox, clock=utc_now, batch_size=settings.overdue_batch_size)
    runtime.add_consumer("interactions", [INTERACTIONS_TOPIC], interaction_handlers(projection, service))
    runtime.add_job("overdue", overdue.run_once, settings.overdue_check_interval_s)
    runtime.on_startup(service.seed_customizing)
    app = create_app(runtime, title="followups", description=DESCRIPTION, routers=[api.router],
                     state={"service": service, "overdue_job": overdue,
                            "default_note_language": settings.default_note_language})
    api.install_domain_problems(app)
    return app
