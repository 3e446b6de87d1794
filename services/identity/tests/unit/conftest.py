"""The service on in-memory stores, with a fixed clock and predictable account ids."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from icsuite_contracts.cloudevents import Envelope, from_document, new_envelope
from icsuite_contracts.masterdata_v1 import AccountUpserted, Address, BusinessAgreementUpserted, OpenBill, PremiseUpserted

from icsuite_identity import handlers
from icsuite_identity.bootstrap import replicas
from icsuite_identity.handlers import IdentityService
from icsuite_identity.repository import memory_stores

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Harness:
    svc: IdentityService

    def published(self) -> list[Envelope]:
        """Every event waiting in an outbox (and taken from it), as the relay would publish them."""
        events = []
        for store in (self.svc.stores.accounts, self.svc.stores.contexts, self.svc.stores.caller_lookups):
            events.extend(store.published())  # type: ignore[attr-defined]
        return events

    async def replicate(self, *envelopes: Envelope, batch: bool = False) -> None:
        if batch:
            await handlers.on_snapshots(self.svc, envelopes)
            return
        for envelope in envelopes:
            await handlers.on_snapshot(self.svc, envelope)


@pytest.fixture
def harness() -> Harness:
    stores = memory_stores()
    ids = (f"acc-new-{i}" for i in itertools.count(1))
    svc = IdentityService(stores=stores, replicas=replicas("DE", stores=stores), clock=lambda: NOW,
                          new_account_id=lambda: next(ids))
    return Harness(svc)


def address(street: str = "Hauptstraße 5", postcode: str = "10115") -> Address:
    return Address(street=street, postcode=postcode, city="Berlin", country="DE")


def account(account_id: str, version: int = 1, *, name: str = "Erika Mustermann", phones=(), emails=(),
            postcode: str = "10115") -> Envelope:
    return new_envelope(AccountUpserted(account_id=account_id, source_version=version, kind="person", name=name,
                                        phones=list(phones), emails=list(emails), address=address(postcode=postcode)),
                        source="/test/erp")


def agreement(ba_id: str, account_id: str, version: int = 1, *, balance: str = "120.75") -> Envelope:
    return new_envelope(BusinessAgreementUpserted(
        business_agreement_id=ba_id, account_id=account_id, source_version=version, balance=balance, currency="EUR",
        dunning_level=1, credit_status="good",
        open_bills=[OpenBill(bill_id=f"{ba_id}-b1", amount="84.50", due_date=date(2025, 3, 15))]), source="/test/erp")


def premise(premise_id: str, version: int = 1, *, account_ids=(), agreement_ids=(), street: str = "Hauptstraße 5",
            postcode: str = "10115") -> Envelope:
    return new_envelope(PremiseUpserted(premise_id=premise_id, source_version=version,
                                        address=address(street, postcode), account_ids=list(account_ids),
                                        business_agreement_ids=list(agreement_ids)), source="/test/erp")


def redelivered(envelope: Envelope) -> Envelope:
    from icsuite_contracts.cloudevents import to_document
    return from_document(to_document(envelope))
