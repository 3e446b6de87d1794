"""Wires the interactions service: settings, store, projections, handlers, consumers, jobs and the gateway."""

from __future__ import annotations

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.clock import Clock, utc_now
from icsuite_chassis.erasure import ERASURES, add_erasure_consumer, erasure_runs
from icsuite_chassis.retention import retention_job
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.account_merge import ACCOUNT_MERGES, MergeRecordCodec
from icsuite_chassis.store import MongoAggregateStore, store_indexes
from icsuite_contracts import (
    account_merges_v1,
    callbacks_v1,
    contacts_v1,
    followups_v1,
    identity_v1,
    interactions_v1,
    privacy_v1,
)

from . import api
from .api import subject_data
from .attachment_cleanup import OrphanedUploadCleaner
from .attachments import UPLOAD_INDEXES, AttachmentStore
from .consumers import register_consumers, register_merges
from .handlers import EventIntake, RecordCommands
from .handlers.erasure import SERVICE, RecordErasure
from .jobs import SelfServiceCloser, retention_rules
from .projections.timeline import TimelineQueries, timeline_writer
from .repository import INDEXES, INTERACTIONS, InteractionsRepository, RecordCodec
from .service import InteractionsService
from .settings import InteractionsSettings

CONSUMES = (contacts_v1.TOPIC, identity_v1.TOPIC, callbacks_v1.TOPIC, followups_v1.TOPIC, interactions_v1.TOPIC,
            privacy_v1.TOPIC, account_merges_v1.TOPIC)
PRODUCES = (interactions_v1.TOPIC, privacy_v1.TOPIC)


def build_service(runtime: ServiceRuntime, settings: InteractionsSettings, clock: Clock) -> InteractionsService:
    store = MongoAggregateStore(runtime.db, INTERACTIONS, RecordCodec(), kick=runtime.kick_outbox)
    records = InteractionsRepository(runtime.db)
    attachments = AttachmentStore(runtime.db, clock=clock)
    return InteractionsService(
        settings=settings, store=store, records=records,
        commands=RecordCommands(store, records, attachments, clock=clock),
        intake=EventIntake(store, records, clock=clock, self_service_grace_s=settings.self_service_grace_s),
        timeline=timeline_writer(runtime.db, settings.timeline_collection),
        timeline_queries=TimelineQueries(runtime.db, settings.timeline_collection),
        attachments=attachments, clock=clock)


def build_app(settings: InteractionsSettings, *, clock: Clock = utc_now) -> FastAPI:
    runtime = ServiceRuntime(settings, outbox_collections=[INTERACTIONS, ERASURES], consumes=CONSUMES,
                             produces=PRODUCES, indexes=[*INDEXES, *UPLOAD_INDEXES, *store_indexes(ERASURES),
                                                         *store_indexes(ACCOUNT_MERGES)])
    service = build_service(runtime, settings, clock)
    runtime.indexes.extend(service.timeline.indexes())
    register_consumers(runtime, service)
    erasure = RecordErasure(service.store, service.attachments)
    add_erasure_consumer(runtime, erasure_runs(runtime), service=SERVICE, survey=erasure.survey, erase=erasure.erase,
                         clock=clock)
    register_merges(runtime, service, MongoAggregateStore(runtime.db, ACCOUNT_MERGES, MergeRecordCodec()))
    closer = SelfServiceCloser(service.store, service.records, clock=clock, grace_s=settings.self_service_grace_s)
    runtime.add_job("self-service-closer", closer.close_due, settings.self_service_sweep_interval_s)
    orphans = OrphanedUploadCleaner(service.attachments, service.records, clock=clock,
                                    grace_s=settings.attachment_orphan_grace_s)
    runtime.add_job("attachment-orphan-cleanup", orphans.delete_orphans, settings.attachment_orphan_sweep_interval_s)
    runtime.add_job("retention", retention_job(retention_rules(service), settings, clock), settings.retention_interval_s)
    return create_app(runtime, title="interactions",
                      description="Interaction records from contact events, notes, activities, attachments, "
                                  "completion and the per-account timeline.",
                      routers=[*api.routers(), subject_data.router(settings.timeline_collection)], state={"service": service})
