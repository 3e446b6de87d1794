"""Shared steps of the end-to-end stories: master data on the topic, tokens, polling the gateways."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from icsuite_chassis.auth import mint_token
from icsuite_chassis.testing import eventually, publish_envelopes, unique
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.masterdata_v1 import (
    AccountUpserted, Address, BusinessAgreementUpserted, OpenBill, PremiseUpserted)


@dataclass(frozen=True)
class Customer:
    account_id: str
    business_agreement_id: str
    premise_id: str
    phone: str
    email: str


def headers(suite, sub: str, *roles: str, skills: list[str] | None = None,
            languages: list[str] | None = None) -> dict[str, str]:
    """A token of the suite; an agent has the ``skills`` and ``languages`` claims only when given."""
    token = mint_token(suite.jwt_secret, sub, list(roles), skills=skills, languages=languages)
    return {"Authorization": f"Bearer {token}"}


def new_phone() -> str:
    return "+4930" + str(uuid_digits(9))


def uuid_digits(n: int) -> str:
    return str(int(unique("n").split("-")[1], 16))[-n:].rjust(n, "7")


async def replicate_customer(suite, *, dunning_level: int = 2, balance: str = "120.00") -> Customer:
    """Publish a customer's master data as the billing system does, and wait until identity has it."""
    customer = Customer(unique("acc"), unique("ba"), unique("pr"), new_phone(), f"{unique('c')}@example.org")
    address = Address(street="Hauptstr. 5", postcode="10115", city="Berlin", country="DE")
    events = [
        AccountUpserted(account_id=customer.account_id, source_version=1, kind="person", name="Erika Muster",
                        phones=[customer.phone], emails=[customer.email], address=address),
        BusinessAgreementUpserted(business_agreement_id=customer.business_agreement_id,
                                  account_id=customer.account_id, source_version=1, balance=Decimal(balance),
                                  currency="EUR", dunning_level=dunning_level, credit_status="ok",
                                  open_bills=[OpenBill(bill_id=unique("bill"), amount=Decimal("80.00"),
                                                       due_date=date.today() - timedelta(days=20))]),
        PremiseUpserted(premise_id=customer.premise_id, source_version=1, address=address,
                        account_ids=[customer.account_id],
                        business_agreement_ids=[customer.business_agreement_id]),
    ]
    await publish_envelopes(suite.kafka_bootstrap, *(new_envelope(e, source="/erp") for e in events))
    agent = headers(suite, "setup", "agent")
    async with httpx.AsyncClient(timeout=10) as client:
        async def replicated() -> bool:
            r = await client.get(suite.url("identity", f"/v1/accounts/{customer.account_id}"), headers=agent)
            return r.status_code == 200 and bool(json.dumps(r.json()).count(customer.premise_id))
        await eventually(replicated, timeout=60)
    return customer


async def poll_json(client: httpx.AsyncClient, url: str, hdrs: dict[str, str], ready, timeout: float = 60) -> Any:
    """GET ``url`` until ``ready(body)`` holds; return the body."""
    async def check() -> Any:
        r = await client.get(url, headers=hdrs)
        if r.status_code == 200 and ready(r.json()):
            return r.json()
        return None
    return await eventually(check, timeout=timeout, interval=0.2)


def now() -> datetime:
    return datetime.now(UTC)
