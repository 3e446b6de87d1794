"""The service's documents: one aggregate store per collection (codecs in :mod:`.codecs`) and the read
queries over them (:mod:`.reads`, :mod:`.search`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from icsuite_chassis.erasure import ERASURES, ErasureRun, ErasureRunCodec
from icsuite_chassis.mongo import IndexSpec
from icsuite_chassis.store import AggregateStore, InMemoryAggregateStore, MongoAggregateStore, store_indexes
from pymongo.asynchronous.database import AsyncDatabase

from ..domain.accounts import AccountRecord, CreationClaim
from ..domain.callers import CallerLookup
from ..domain.context import ContactContext
from ..domain.erasures import Erasure, ErasureClaim
from ..domain.lookups import Lookup
from ..domain.masterdata import Agreement, Premise
from .codecs import (
    AccountCodec,
    AgreementCodec,
    CallerLookupCodec,
    ContextCodec,
    CreationClaimCodec,
    LookupCodec,
    PremiseCodec,
)
from .erasure_codecs import ErasureClaimCodec, ErasureCodec

ACCOUNTS, AGREEMENTS, PREMISES, LOOKUPS = "accounts", "business_agreements", "premises", "lookups"
CONTEXTS, CALLER_LOOKUPS, CREATION_CLAIMS = "contexts", "caller_lookups", "creation_claims"
ERASURE_REQUESTS, ERASURE_CLAIMS = "erasure_requests", "erasure_claims"
OUTBOX_COLLECTIONS = (ACCOUNTS, CONTEXTS, CALLER_LOOKUPS, ERASURE_REQUESTS, ERASURES)
COLLECTIONS = (ACCOUNTS, AGREEMENTS, PREMISES, LOOKUPS, CONTEXTS, CALLER_LOOKUPS, CREATION_CLAIMS, ERASURE_REQUESTS,
               ERASURE_CLAIMS, ERASURES)
INDEXES: tuple[IndexSpec, ...] = tuple(spec for name in COLLECTIONS for spec in store_indexes(name))
"""Every read is by ``_id``; the store's own index on each collection is all there is."""

Kick = Callable[[str, Any], None]


@dataclass(frozen=True)
class Stores:
    """One aggregate store per collection the service owns."""

    accounts: AggregateStore[AccountRecord]
    agreements: AggregateStore[Agreement]
    premises: AggregateStore[Premise]
    lookups: AggregateStore[Lookup]
    contexts: AggregateStore[ContactContext]
    caller_lookups: AggregateStore[CallerLookup]
    creation_claims: AggregateStore[CreationClaim]
    erasure_requests: AggregateStore[Erasure]
    erasure_claims: AggregateStore[ErasureClaim]
    erasure_runs: AggregateStore[ErasureRun]


_CODECS: dict[str, Any] = {ACCOUNTS: AccountCodec(), AGREEMENTS: AgreementCodec(), PREMISES: PremiseCodec(),
                           LOOKUPS: LookupCodec(), CONTEXTS: ContextCodec(), CALLER_LOOKUPS: CallerLookupCodec(),
                           CREATION_CLAIMS: CreationClaimCodec(), ERASURE_REQUESTS: ErasureCodec(),
                           ERASURE_CLAIMS: ErasureClaimCodec(), ERASURES: ErasureRunCodec()}
_FIELDS = dict(zip(COLLECTIONS, ("accounts", "agreements", "premises", "lookups", "contexts", "caller_lookups",
                                 "creation_claims", "erasure_requests", "erasure_claims", "erasure_runs"),
                     strict=True))


def codec(collection: str) -> Any:
    return _CODECS[collection]


def mongo_stores(db: AsyncDatabase[dict[str, Any]], kick: Kick | None = None) -> Stores:
    return Stores(**{_FIELDS[name]: MongoAggregateStore(db, name, _CODECS[name], kick=kick) for name in COLLECTIONS})


def memory_stores() -> Stores:
    """The same stores in memory, for unit tests."""
    return Stores(**{_FIELDS[name]: InMemoryAggregateStore(name, _CODECS[name]) for name in COLLECTIONS})
