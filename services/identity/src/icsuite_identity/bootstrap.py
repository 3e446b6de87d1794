"""Wires the identity service: settings, Mongo, broker, stores, replicas, consumers and the gateway."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from icsuite_chassis.app import create_app
from icsuite_chassis.clock import Clock, utc_now
from icsuite_chassis.retention import retention_job
from icsuite_chassis.runtime import ServiceRuntime
from icsuite_contracts.account_merges_v1 import TOPIC as MERGES_TOPIC
from icsuite_contracts.identity_v1 import TOPIC as IDENTITY
from icsuite_contracts.privacy_v1 import TOPIC as PRIVACY

from . import api
from .consumers import CONSUMED_TOPICS, register_consumers
from .handlers import IdentityService
from .jobs import retention_rules
from .projections.masterdata import Replica, account_of, agreement_of, premise_of
from .repository import ACCOUNTS, AGREEMENTS, INDEXES, OUTBOX_COLLECTIONS, PREMISES, codec, mongo_stores
from .repository.merges import ACCOUNT_MERGES, MERGE_INDEXES, mongo_merge_stores
from .settings import IdentitySettings


def replicas(default_region: str, *, db: Any = None, stores: Any = None) -> dict[str, Replica[Any]]:
    """The master-data replicas: through projection writers on ``db``, or on the bare ``stores`` (unit tests)."""
    def replica(name: str, attribute: str, to_state: Any, record_id: Any) -> Replica[Any]:
        if db is not None:
            return Replica(to_state, record_id, db=db, name=name, codec=codec(name))
        return Replica(to_state, record_id, store=getattr(stores, attribute))
    return {
        "accounts": replica(ACCOUNTS, "accounts", lambda e: account_of(e, default_region), lambda e: e.account_id),
        "agreements": replica(AGREEMENTS, "agreements", agreement_of, lambda e: e.business_agreement_id),
        "premises": replica(PREMISES, "premises", premise_of, lambda e: e.premise_id),
    }


def build_service(runtime: ServiceRuntime, settings: IdentitySettings, clock: Clock = utc_now) -> IdentityService:
    return IdentityService(stores=mongo_stores(runtime.db, kick=runtime.kick_outbox),
                           merges=mongo_merge_stores(runtime.db, kick=runtime.kick_outbox),
                           replicas=replicas(settings.default_region, db=runtime.db),
                           default_region=settings.default_region, clock=clock, settings=settings)


def build_app(settings: IdentitySettings, clock: Clock = utc_now) -> FastAPI:
    """The app; ``clock`` only for tests that move time on (retention)."""
    runtime = ServiceRuntime(settings, outbox_collections=(*OUTBOX_COLLECTIONS, ACCOUNT_MERGES),
                             indexes=(*INDEXES, *MERGE_INDEXES), consumes=CONSUMED_TOPICS,
                             produces=(IDENTITY, PRIVACY, MERGES_TOPIC))
    service = build_service(runtime, settings, clock)
    register_consumers(runtime, service)
    rules = retention_rules(service, settings.contact_context_retention_days)
    runtime.add_job("retention", retention_job(rules, settings, service.clock), settings.retention_interval_s)
    return create_app(runtime, title="identity",
                      description="Finds, confirms and creates the customer during a contact.",
                      routers=list(api.ROUTERS), state={"service": service})
