"""Wires the callbacks service: stores, projections, consumers, the scheduler and the gateway."""

from __future__ import annotations

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.clock import utc_now
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.store import MongoAggregateStore
from icsuite_contracts.callback_requests_v1 import TOPIC as REQUESTS_TOPIC
from icsuite_contracts.callbacks_v1 import TOPIC as CALLBACKS_TOPIC
from icsuite_contracts.identity_v1 import TOPIC as IDENTITY_TOPIC

from . import handlers
from .api import ROUTERS
from .consumers import register_consumers
from .domain import IntakePolicy
from .handlers import CallbacksService
from .jobs import scheduler_job
from .projections import Identifications
from .repository import COLLECTION, INDEXES, PROFILES, SLOTS, ProfileCodec, SlotsCodec, WorkItemCodec
from .settings import CallbacksSettings


def build_service(runtime: ServiceRuntime, settings: CallbacksSettings) -> CallbacksService:
    db = runtime.db
    return CallbacksService(
        items=MongoAggregateStore(db, COLLECTION, WorkItemCodec(), kick=runtime.kick_outbox),
        profiles=MongoAggregateStore(db, PROFILES, ProfileCodec()),
        slots=MongoAggregateStore(db, SLOTS, SlotsCodec()),
        identifications=Identifications.on_mongo(db),
        policy=IntakePolicy(max_window_days=settings.max_window_days,
                            default_window_hours=settings.default_window_hours,
                            identification_wait_s=settings.identification_wait_s),
        max_open_per_number=settings.max_open_requests_per_number,
        clock=utc_now,
    )


def build_app(settings: CallbacksSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, outbox_collections=[COLLECTION], indexes=INDEXES,
                             consumes=[REQUESTS_TOPIC, IDENTITY_TOPIC], produces=[CALLBACKS_TOPIC, REQUESTS_TOPIC])
    svc = build_service(runtime, settings)
    register_consumers(runtime, svc)
    if settings.seed_reason_profiles:
        runtime.on_startup(lambda: handlers.seed_profiles(svc))
    runtime.add_job("callbacks.scheduler", scheduler_job(svc), settings.scheduler_interval_s)
    return create_app(runtime, title="callbacks",
                      description="Callback requests from web and IVR, routed by reason, claimed exactly once.",
                      routers=ROUTERS, state={"service": svc})
