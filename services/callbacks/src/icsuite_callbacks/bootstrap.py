"""Wires the callbacks service: settings, Mongo, broker, repositories, handlers, consumers, scheduler, gateway."""

from __future__ import annotations

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_contracts.callback_requests_v1 import TOPIC as REQUESTS_TOPIC
from icsuite_contracts.callbacks_v1 import TOPIC as CALLBACKS_TOPIC
from icsuite_contracts.identity_v1 import TOPIC as IDENTITY_TOPIC

from . import api, handlers, profiles_api
from .api_support import install_error_mapping
from .consumers import register_consumers
from .domain import IntakePolicy
from .handlers import Deps
from .repository import COLLECTION, INDEXES, Identifications, OpenRequestsByNumber, ReasonProfiles, WorkItems
from .scheduler import claimable_repair_job, repair_claimable, scheduler_job
from .settings import CallbacksSettings


def build_deps(runtime: ServiceRuntime, settings: CallbacksSettings) -> Deps:
    db = runtime.db
    return Deps(
        items=WorkItems(db), profiles=ReasonProfiles(db), identifications=Identifications(db),
        numbers=OpenRequestsByNumber(db), kick=lambda callback_id: runtime.kick_outbox(COLLECTION, callback_id),
        policy=IntakePolicy(max_window_days=settings.max_window_days,
                            default_window_hours=settings.default_window_hours,
                            identification_wait_s=settings.identification_wait_s),
        max_open_per_number=settings.max_open_requests_per_number,
        pending_claim_repair_s=settings.pending_claim_repair_s,
    )


def build_app(settings: CallbacksSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, outbox_collections=[COLLECTION], indexes=INDEXES,
                             consumes=[REQUESTS_TOPIC, IDENTITY_TOPIC], produces=[CALLBACKS_TOPIC, REQUESTS_TOPIC])
    deps = build_deps(runtime, settings)
    register_consumers(runtime, deps)
    if settings.seed_reason_profiles:
        runtime.on_startup(lambda: handlers.seed_profiles(deps))
    runtime.add_job("callbacks.scheduler", scheduler_job(deps), settings.scheduler_interval_s)
    runtime.on_startup(lambda: repair_claimable(deps))  # items queued by an earlier version get their entries
    runtime.add_job("callbacks.claimable-repair", claimable_repair_job(deps), settings.claimable_repair_s)
    app = create_app(runtime, title="callbacks",
                     description="Callback requests from web and IVR, routed by reason, claimed exactly once.",
                     routers=[api.router, profiles_api.router], state={"deps": deps})
    install_error_mapping(app)
    return app
