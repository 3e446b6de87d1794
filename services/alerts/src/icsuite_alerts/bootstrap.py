"""Wires the alerts service: stores, projections, the stream, the rule cache, consumers, jobs, gateway."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.clock import utc_now
from icsuite_chassis.erasure import ERASURES, add_erasure_consumer, erasure_runs
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_chassis.account_merge import ACCOUNT_MERGES, MergeRecordCodec
from icsuite_chassis.store import MongoAggregateStore, store_indexes
from icsuite_contracts.account_merges_v1 import TOPIC as MERGES_TOPIC
from icsuite_contracts.privacy_v1 import TOPIC as PRIVACY_TOPIC
from pymongo.asynchronous.database import AsyncDatabase

from . import api, erasure, repository
from .api import subject_data
from .consumers import register_consumers, register_merges
from .domain.rules import CONSUMED_TOPICS
from .handlers import AlertsService
from .jobs import register_jobs
from .projections import account_writer, contact_writer, event_log
from .rulecache import RuleCache
from .settings import AlertsSettings
from .stream import AlertStream

EARLIER_INDEXES = {"alerts": ["position_1", "former_positions_1"]}  # unique positions of an earlier version


def build_service(runtime: ServiceRuntime, settings: AlertsSettings) -> AlertsService:
    db = runtime.db

    def store(name: str, codec: Any) -> MongoAggregateStore[Any]:
        return MongoAggregateStore(db, name, codec, kick=runtime.kick_outbox)

    alerts = store("alerts", repository.AlertCodec())
    queries = repository.AlertQueries(db)
    meta = store("meta", repository.MarkerCodec())
    rule_queries = repository.RuleQueries(db)
    contacts = contact_writer(db)
    return AlertsService(
        rules=store("rules", repository.RuleCodec()), meta=meta, alerts=alerts,
        dedupe=store("alert_dedupe", repository.DedupeCodec()), waiting=store("alert_waiting", repository.WaitingCodec()),
        absences=store("alert_absences", repository.AbsenceCodec()), absence_queries=repository.AbsenceQueries(db),
        contacts=contacts, accounts=account_writer(db), event_log=event_log(db), rule_queries=rule_queries,
        alert_queries=queries, cache=RuleCache(rule_queries, meta), settings=settings, clock=utc_now,
        stream=AlertStream(queries, store("alert_stream", repository.StreamEntryCodec()), alerts,
                           poll_interval_s=settings.stream_poll_interval_s))


async def drop_earlier_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    for collection, names in EARLIER_INDEXES.items():
        existing = {index["name"] async for index in await db[collection].list_indexes()}
        for name in names:
            if name in existing:
                await db[collection].drop_index(name)


def build_app(settings: AlertsSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, outbox_collections=["alerts", ERASURES],
                             consumes=[*CONSUMED_TOPICS, PRIVACY_TOPIC, MERGES_TOPIC],
                             produces=["ic.alerts.v1", PRIVACY_TOPIC])
    service = build_service(runtime, settings)
    runtime.indexes.extend([*repository.INDEXES, *service.contacts.indexes(), *service.accounts.writer.indexes(),
                            *service.event_log.indexes(), *store_indexes(ERASURES), *store_indexes(ACCOUNT_MERGES)])

    async def start() -> None:
        if settings.seed_standard_rules:
            await service.seed_standard_rules()
        else:
            await service.cache.refresh(force=True)
        await service.stream.start()

    runtime.on_startup(lambda: drop_earlier_indexes(runtime.db))
    runtime.on_startup(start)
    register_jobs(runtime, service)
    register_consumers(runtime, service)
    add_erasure_consumer(runtime, erasure_runs(runtime), service=erasure.SERVICE, clock=service.clock,
                         survey=lambda account_id: erasure.survey(service, account_id),
                         erase=lambda account_id: erasure.erase(service, account_id))
    register_merges(runtime, service, MongoAggregateStore(runtime.db, ACCOUNT_MERGES, MergeRecordCodec()))
    return create_app(runtime, title="alerts", description="The alert modeler: rules on events and account facts, "
                      "alerts pushed live to agents.", routers=[api.router, subject_data.router], state={"service": service})
