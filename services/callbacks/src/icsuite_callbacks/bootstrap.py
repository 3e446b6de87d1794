"""Wires the callbacks service: stores, projections, consumers, the scheduler and the gateway."""

from __future__ import annotations

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.clock import utc_now
from icsuite_chassis.erasure import ERASURES, add_erasure_consumer, erasure_runs
from icsuite_chassis.retention import retention_job
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.account_merge import ACCOUNT_MERGES, MergeRecordCodec
from icsuite_chassis.store import MongoAggregateStore, store_indexes
from icsuite_contracts.account_merges_v1 import TOPIC as MERGES_TOPIC
from icsuite_contracts.callback_requests_v1 import TOPIC as REQUESTS_TOPIC
from icsuite_contracts.callbacks_v1 import TOPIC as CALLBACKS_TOPIC
from icsuite_contracts.followups_v1 import TOPIC as FOLLOWUPS_TOPIC
from icsuite_contracts.identity_v1 import TOPIC as IDENTITY_TOPIC
from icsuite_contracts.masterdata_v1 import TOPIC as MASTERDATA_TOPIC
from icsuite_contracts.privacy_v1 import TOPIC as PRIVACY_TOPIC

from . import handlers
from .api import ROUTERS
from .api import baseline
from .consumers import register_consumers, register_merges
from .domain import IntakePolicy
from .handlers import CallbacksService
from .handlers import erasure
from .jobs import retention_rules, scheduler_job
from .projections import ACCOUNT_PHONES, AccountNumbers, Identifications
from .domain.rates import RateLimit
from .repository import (
    COLLECTION, INDEXES, PROFILES, QUEUED, RATES, SLOTS, ProfileCodec, RateCodec, SlotsCodec, WorkItemCodec,
)
from .settings import CallbacksSettings


RATE_COUNTER_ATTEMPTS = 64
"""A caller's counter is one document that a burst of its requests all write: each round of the store's
guarded writes lets one of them count, so a burst of n needs n rounds (the store's 8 would refuse the rest)."""


def build_service(runtime: ServiceRuntime, settings: CallbacksSettings) -> CallbacksService:
    db = runtime.db
    return CallbacksService(
        items=MongoAggregateStore(db, COLLECTION, WorkItemCodec(), kick=runtime.kick_outbox, queue=QUEUED),
        profiles=MongoAggregateStore(db, PROFILES, ProfileCodec()),
        slots=MongoAggregateStore(db, SLOTS, SlotsCodec()),
        identifications=Identifications.on_mongo(db),
        accounts=AccountNumbers.on_mongo(db),
        rates=MongoAggregateStore(db, RATES, RateCodec(), attempts=RATE_COUNTER_ATTEMPTS),
        policy=IntakePolicy(max_window_days=settings.max_window_days,
                            default_window_hours=settings.default_window_hours,
                            identification_wait_s=settings.identification_wait_s,
                            refused_number_types=tuple(settings.refused_number_types)),
        max_open_per_number=settings.max_open_requests_per_number,
        caller_limit=RateLimit("caller", settings.rate_limit_per_caller, settings.rate_caller_window_s),
        number_limit=RateLimit("number", settings.rate_limit_per_number, settings.rate_number_window_s),
        clock=utc_now,
    )


def build_app(settings: CallbacksSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, outbox_collections=[COLLECTION, ERASURES],
                             indexes=[*INDEXES, *store_indexes(ACCOUNT_PHONES), *store_indexes(ERASURES),
                                      *store_indexes(ACCOUNT_MERGES)],
                             consumes=[REQUESTS_TOPIC, IDENTITY_TOPIC, MASTERDATA_TOPIC, FOLLOWUPS_TOPIC, PRIVACY_TOPIC,
                                       MERGES_TOPIC],
                             produces=[CALLBACKS_TOPIC, REQUESTS_TOPIC, PRIVACY_TOPIC])
    svc = build_service(runtime, settings)
    register_consumers(runtime, svc)
    add_erasure_consumer(runtime, erasure_runs(runtime), service=erasure.SERVICE, clock=svc.clock,
                         survey=lambda account_id: erasure.survey(svc, account_id),
                         erase=lambda account_id: erasure.erase(svc, account_id))
    register_merges(runtime, svc, MongoAggregateStore(runtime.db, ACCOUNT_MERGES, MergeRecordCodec()))
    if settings.seed_reason_profiles:
        runtime.on_startup(lambda: handlers.seed_profiles(svc))
    runtime.add_job("callbacks.scheduler", scheduler_job(svc), settings.scheduler_interval_s)
    rules = retention_rules(svc, settings.closed_callback_retention_days)
    runtime.add_job("retention", retention_job(rules, settings, svc.clock), settings.retention_interval_s)
    routers, state = list(ROUTERS), {"service": svc}
    if settings.bench_claim_baseline:  # the benchmark's baseline claim (api/baseline.py), off unless set
        routers.append(baseline.router)
        state["claim_baseline_collection"] = runtime.db[COLLECTION]
    return create_app(runtime, title="callbacks",
                      description="Callback requests from web and IVR, routed by reason, claimed exactly once.",
                      routers=routers, state=state)
