"""The identity app running in-process against the session's stack, one per test module."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest_asyncio
from icsuite_chassis.testing import bearer, eventually, publish_envelopes, running_app, unique
from icsuite_contracts.cloudevents import Envelope, new_envelope
from icsuite_contracts.contacts_v1 import ContactSegmentRecorded
from icsuite_contracts.masterdata_v1 import Address, AccountUpserted, BusinessAgreementUpserted, OpenBill, PremiseUpserted

from icsuite_identity.bootstrap import build_app
from icsuite_identity.settings import IdentitySettings

AGENT = bearer("a-17", "agent")
REPLAY_TIMEOUT_S = 180.0


@dataclass
class Identity:
    """The running app, its database, and the factories of test data (importable only as a fixture)."""

    client: httpx.AsyncClient
    app: Any
    bootstrap: str
    agent: dict = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.agent = AGENT
        self.random_phone = random_phone
        self.account_snapshot = account_snapshot
        self.agreement_snapshot = agreement_snapshot
        self.premise_snapshot = premise_snapshot

    @property
    def db(self) -> Any:
        return self.app.state.runtime.db

    async def publish(self, *envelopes: Envelope) -> None:
        await publish_envelopes(self.bootstrap, *envelopes)

    async def report_contact(self, contact_id: str, agent_id: str | None = "a-17") -> dict:
        """The channel reports the contact with an agent segment (or an IVR segment without an agent); waits
        until identity knows it."""
        data = ContactSegmentRecorded(contact_id=contact_id, segment_id=f"{contact_id}-{agent_id}",
                                      kind="agent" if agent_id else "ivr", agent_id=agent_id, started_at=now())
        await self.publish(new_envelope(data, source="/test/cti", correlation_id=contact_id))

        async def known() -> dict | None:
            response = await self.client.get(f"/v1/contacts/{contact_id}/context", headers=self.agent)
            body = response.json() if response.status_code == 200 else None
            return body if body and (agent_id is None or agent_id in body["agent_ids"]) else None
        return await eventually(known, timeout=REPLAY_TIMEOUT_S)

    async def account_version(self, account_id: str, version: int) -> dict:
        """Wait for a replicated account; the first wait of a module also covers the replay of the topic's
        earlier events into the module's fresh database, so it may take long on a busy machine."""
        async def check() -> dict | None:
            return await self.db.accounts.find_one({"_id": account_id, "source_version": version})
        return await eventually(check, timeout=REPLAY_TIMEOUT_S)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def identity(stack) -> AsyncIterator[Identity]:
    settings = IdentitySettings(kafka_bootstrap_servers=stack.kafka_bootstrap, mongodb_uri=stack.mongodb_uri,
                                mongodb_database=unique("identity_test").replace("-", "_"),
                                consumer_group_prefix=unique("t") + ".", consumer_retry_backoff_s=0.01)
    app = build_app(settings)
    async with running_app(app) as client:
        yield Identity(client, app, stack.kafka_bootstrap)


def random_phone() -> tuple[str, str]:
    """A Berlin number as E.164 and as a caller would dial it nationally."""
    digits = unique("n").split("-")[1]
    local = "".join(str(int(c, 16) % 10) for c in digits[:7])
    return f"+4930{local}", f"030 {local}"


def address(street: str = "Hauptstraße 5", postcode: str = "10115") -> Address:
    return Address(street=street, postcode=postcode, city="Berlin", country="DE")


def account_snapshot(account_id: str, version: int, *, name: str = "Erika Mustermann", phones=(), emails=(),
                     postcode: str = "10115", status: str = "active") -> Envelope:
    data = AccountUpserted(account_id=account_id, source_version=version, kind="person", name=name,
                           phones=list(phones), emails=list(emails), address=address(postcode=postcode),
                           status=status)
    return new_envelope(data, source="/test/erp")


def agreement_snapshot(ba_id: str, account_id: str, version: int, *, balance: str = "120.75",
                       dunning_level: int = 1) -> Envelope:
    data = BusinessAgreementUpserted(
        business_agreement_id=ba_id, account_id=account_id, source_version=version, balance=balance,
        currency="EUR", dunning_level=dunning_level, credit_status="good",
        open_bills=[OpenBill(bill_id=f"{ba_id}-b1", amount="84.50", due_date=date(2025, 3, 15))])
    return new_envelope(data, source="/test/erp")


def premise_snapshot(premise_id: str, version: int, *, account_ids=(), agreement_ids=(),
                     street: str = "Hauptstraße 5", postcode: str = "10115") -> Envelope:
    data = PremiseUpserted(premise_id=premise_id, source_version=version, address=address(street, postcode),
                           account_ids=list(account_ids), business_agreement_ids=list(agreement_ids))
    return new_envelope(data, source="/test/erp")


def now() -> datetime:
    return datetime.now(UTC)
