"""Wires the followups service: settings, Mongo, broker, stores, handlers, consumers, jobs and the gateway."""

from __future__ import annotations

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.clock import Clock, utc_now
from icsuite_chassis.erasure import ERASURES, add_erasure_consumer, erasure_runs
from icsuite_chassis.retention import retention_job
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.account_merge import ACCOUNT_MERGES, MergeRecordCodec
from icsuite_chassis.store import MongoAggregateStore, store_indexes
from icsuite_contracts.account_merges_v1 import TOPIC as MERGES_TOPIC
from icsuite_contracts.followups_v1 import TOPIC as FOLLOWUPS_TOPIC
from icsuite_contracts.privacy_v1 import TOPIC as PRIVACY_TOPIC

from . import api, erasure, jobs
from .api import subject_data
from .consumers import TOPICS, interaction_batch_handler, interaction_handlers, register_merges
from .erased_accounts import ERASED_ACCOUNTS, ErasedAccountCodec, sources_settle
from .handlers import Service, seed_customizing
from .projections.interaction_sources import interaction_sources
from .repository import (
    CUSTOMIZING,
    FOLLOWUPS,
    INDEXES,
    CopyRulesCodec,
    FollowupCodec,
    FollowupReads,
    TypeRulesCodec,
)
from .settings import FollowupsSettings

DESCRIPTION = ("Follow-up transactions created from interactions, service tickets, service orders, complaints "
               "and cases: customizing of permitted types, copying control, notes history, overdue and due reports.")


def build_service(runtime: ServiceRuntime, settings: FollowupsSettings, clock: Clock = utc_now) -> Service:
    db, kick = runtime.db, runtime.kick_outbox
    erased_accounts = MongoAggregateStore(db, ERASED_ACCOUNTS, ErasedAccountCodec())
    return Service(
        followups=MongoAggregateStore(db, FOLLOWUPS, FollowupCodec(), kick=kick),
        type_rules=MongoAggregateStore(db, CUSTOMIZING, TypeRulesCodec()),
        copy_rules=MongoAggregateStore(db, CUSTOMIZING, CopyRulesCodec()),
        reads=FollowupReads(db), interactions=interaction_sources(db, settle=sources_settle(erased_accounts)),
        settings=settings, clock=clock, erased_accounts=erased_accounts)


def build_app(settings: FollowupsSettings, clock: Clock = utc_now) -> FastAPI:
    runtime = ServiceRuntime(settings, outbox_collections=[FOLLOWUPS, ERASURES],
                             indexes=[*INDEXES, *store_indexes(ERASURES), *store_indexes(ACCOUNT_MERGES),
                                      *store_indexes(ERASED_ACCOUNTS)],
                             consumes=[*TOPICS, PRIVACY_TOPIC, MERGES_TOPIC], produces=[FOLLOWUPS_TOPIC, PRIVACY_TOPIC])
    svc = build_service(runtime, settings, clock)
    runtime.indexes.extend(svc.interactions.indexes())
    runtime.add_consumer("interactions", list(TOPICS), interaction_handlers(svc),
                         batch_handler=interaction_batch_handler(svc))
    add_erasure_consumer(runtime, erasure_runs(runtime), service=erasure.SERVICE, clock=clock,
                         survey=lambda account_id: erasure.survey(svc, account_id),
                         erase=lambda account_id: erasure.erase(svc, account_id))
    register_merges(runtime, svc, MongoAggregateStore(runtime.db, ACCOUNT_MERGES, MergeRecordCodec()))
    runtime.add_job("overdue", lambda: jobs.report_overdue(svc), settings.overdue_check_interval_s)
    runtime.add_job("due", lambda: jobs.report_due(svc), settings.due_check_interval_s)
    runtime.add_job("retention", retention_job(jobs.retention_rules(svc), settings, clock),
                    settings.retention_interval_s)
    runtime.on_startup(lambda: seed_customizing(svc))
    return create_app(runtime, title="followups", description=DESCRIPTION, routers=[api.router, subject_data.router],
                      state={"service": svc})
