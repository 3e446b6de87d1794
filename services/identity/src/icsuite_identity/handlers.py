"""Handlers: the replication of master data, automatic identification of contacts and callback
callers, the confirmation of the business object context and the creation of accounts."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from icsuite_contracts.callback_requests_v1 import CallbackRequested
from icsuite_contracts.cloudevents import Envelope, derive_event_id, new_envelope
from icsuite_contracts.contacts_v1 import ContactStarted
from icsuite_contracts.identity_v1 import AccountCreated, CallerIdentified, ContactIdentified
from icsuite_contracts.masterdata_v1 import AccountUpserted, BusinessAgreementUpserted, PremiseUpserted

from .domain.accounts import (
    ExistingAccount, account_from_snapshot, duplicate_keys, find_duplicate, new_account)
from .domain.context import (
    MAX_CANDIDATES,
    AgreementView,
    Confirmation,
    Method,
    PremiseView,
    check_belongs_together,
    identify_automatically,
)
from .domain.keys import agreement_keys, premise_keys
from .domain.normalize import ContactAddress, classify_contact_address, try_phone_to_e164
from .queries import AccountQueries
from .repository import ACCOUNTS, CALLER_LOOKUPS, CONTEXTS, Doc, Repositories, account_document

SOURCE = "/identity"


class UnknownReference(LookupError):
    """A request names an account, business agreement or premise that does not exist."""

    def __init__(self, field: str, value: str):
        super().__init__(f"{field} {value!r} does not exist")
        self.field = field
        self.value = value


class DuplicateAccount(Exception):
    def __init__(self, account_id: str, reason: str):
        super().__init__(f"a probable duplicate of account {account_id} ({reason})")
        self.account_id = account_id
        self.reason = reason


def _now() -> datetime:
    return datetime.now(UTC)


def _new_account_id() -> str:
    return f"acc-{uuid.uuid4().hex[:20]}"


@dataclass
class IdentityHandlers:
    repos: Repositories
    queries: AccountQueries
    kick: Callable[[str, Any], None]
    default_region: str = "DE"
    clock: Callable[[], datetime] = field(default=_now)
    new_account_id: Callable[[], str] = field(default=_new_account_id)

    # --- replicated master data -------------------------------------------------------------------
    async def on_account_upserted(self, envelope: Envelope) -> None:
        e: AccountUpserted = envelope.data  # type: ignore[assignment]
        record = account_from_snapshot(
            account_id=e.account_id, kind=e.kind, name=e.name, phones=e.phones, emails=e.emails,
            address=e.address.model_dump() if e.address else None, flags=e.flags, status=e.status,
            source_version=e.source_version, default_region=self.default_region)
        await self.repos.accounts.apply_snapshot(e.account_id, account_document(record), record.keys(),
                                                 source_version=e.source_version, event_id=envelope.id)

    async def on_agreement_upserted(self, envelope: Envelope) -> None:
        e: BusinessAgreementUpserted = envelope.data  # type: ignore[assignment]
        fields = e.model_dump(mode="json", exclude={"business_agreement_id", "source_version"})
        fields["balance"] = str(e.balance)
        fields["open_bills"] = [{**b.model_dump(mode="json"), "amount": str(b.amount)} for b in e.open_bills]
        await self.repos.agreements.apply_snapshot(e.business_agreement_id, fields, agreement_keys(e.account_id),
                                                   source_version=e.source_version, event_id=envelope.id)

    async def on_premise_upserted(self, envelope: Envelope) -> None:
        e: PremiseUpserted = envelope.data  # type: ignore[assignment]
        fields = e.model_dump(mode="json", exclude={"premise_id", "source_version"})
        keys = premise_keys(postcode=e.address.postcode, street=e.address.street, account_ids=e.account_ids)
        await self.repos.premises.apply_snapshot(e.premise_id, fields, keys, source_version=e.source_version,
                                                 event_id=envelope.id)

    # --- automatic identification -----------------------------------------------------------------
    async def on_contact_started(self, envelope: Envelope) -> None:
        e: ContactStarted = envelope.data  # type: ignore[assignment]
        customer = e.to_address if e.direction == "outbound" and e.to_address else e.from_address
        address = classify_contact_address(customer, self.default_region)
        hinted = e.account_hint if e.account_hint and await self.repos.accounts.get(e.account_hint) else None
        matches = await self.queries.by_contact_address(address) if address and not hinted else []
        found = identify_automatically(address, matches, self.clock(), hinted_account=hinted)
        publish = []
        if found.account_id is not None:
            event = ContactIdentified(contact_id=e.contact_id, account_id=found.account_id, method=found.method,
                                      confirmed=False, candidates=list(found.candidates))
            publish.append(self._envelope(event, envelope, "contact-identified"))
        contact = {"channel": e.channel, "direction": e.direction, "address": customer,
                   "started_at": e.started_at, "correlation_id": envelope.correlation_id or e.contact_id}
        await self.repos.contexts.record_automatic(e.contact_id, found, contact, event_id=envelope.id,
                                                   publish=publish)
        self.kick(CONTEXTS, e.contact_id)

    async def on_callback_requested(self, envelope: Envelope) -> None:
        e: CallbackRequested = envelope.data  # type: ignore[assignment]
        if e.account_id:
            return  # the customer named the account; nothing to identify
        e164 = try_phone_to_e164(e.callback_number, self.default_region)
        found = await self.queries.by_contact_address(ContactAddress("phone", e164)) if e164 else []
        candidates = found[:MAX_CANDIDATES]
        account_id = candidates[0] if len(candidates) == 1 else None
        event = CallerIdentified(request_id=e.request_id, callback_number=e.callback_number,
                                 account_id=account_id, candidates=candidates)
        fields = {"callback_number": e.callback_number, "account_id": account_id, "candidates": candidates,
                  "identified_at": self.clock()}
        await self.repos.caller_lookups.record(e.request_id, fields, event_id=envelope.id,
                                               publish=[self._envelope(event, envelope, "caller-identified")])
        self.kick(CALLER_LOOKUPS, e.request_id)

    # --- commands from the gateway ----------------------------------------------------------------
    async def confirm_context(self, contact_id: str, *, account_id: str, business_agreement_id: str | None,
                              premise_id: str | None, method: Method, agent_id: str) -> Doc:
        if await self.repos.accounts.get(account_id) is None:
            raise UnknownReference("account_id", account_id)
        agreement = await self._agreement(business_agreement_id)
        premise = await self._premise(premise_id)
        check_belongs_together(account_id, agreement, premise)
        confirmation = Confirmation(account_id, business_agreement_id, premise_id, agent_id, method, self.clock())
        event = ContactIdentified(contact_id=contact_id, account_id=account_id,
                                  business_agreement_id=business_agreement_id, premise_id=premise_id,
                                  method=method, confirmed=True, agent_id=agent_id)
        out = new_envelope(event, source=SOURCE, correlation_id=contact_id, time=confirmation.confirmed_at)
        doc = await self.repos.contexts.confirm(contact_id, confirmation, [out])
        self.kick(CONTEXTS, contact_id)
        return doc

    async def create_account(self, *, kind: str, name: str, phones: list[str], emails: list[str],
                             address: Mapping[str, str] | None, created_by: str) -> Doc:
        record = new_account(account_id=self.new_account_id(), kind=kind, name=name, phones=phones,
                             emails=emails, address=address, default_region=self.default_region)
        await self._refuse_duplicate(record.phones_e164, record.emails, record)
        keys = duplicate_keys(record)
        holder = await self.repos.creation_claims.claim(keys, record.account_id, self.clock(),
                                                        exists=self._account_exists)
        if holder is not None:
            raise DuplicateAccount(holder, "a creation of the same customer (same e-mail address, or same "
                                           "phone number and name) is in progress or done")
        event = AccountCreated(account_id=record.account_id, kind=kind, name=record.name,  # type: ignore[arg-type]
                               phones=list(record.phones_e164), emails=list(record.emails),
                               address=address, created_by=created_by)  # type: ignore[arg-type]
        now = self.clock()
        out = new_envelope(event, source=SOURCE, correlation_id=record.account_id, time=now)
        try:
            await self.repos.accounts.create(record, created_by=created_by, now=now, publish=[out])
        except BaseException:
            await self.repos.creation_claims.release(keys, record.account_id)
            raise
        self.kick(ACCOUNTS, record.account_id)
        return await self.repos.accounts.get(record.account_id) or {}

    async def _account_exists(self, account_id: str) -> bool:
        return await self.repos.accounts.get(account_id) is not None

    async def _refuse_duplicate(self, phones: tuple[str, ...], emails: tuple[str, ...], record: Any) -> None:
        docs: dict[str, Doc] = {}
        for e164 in phones:
            docs.update((d["_id"], d) for d in await self.queries.by_phone(e164))
        for email in emails:
            docs.update((d["_id"], d) for d in await self.queries.by_email(email))
        existing = [ExistingAccount(d["_id"], d.get("name", ""), tuple(d.get("phones_e164", [])),
                                    tuple(d.get("emails", []))) for d in docs.values()]
        duplicate = find_duplicate(record, existing)
        if duplicate is not None:
            same_email = set(record.emails) & set(duplicate.emails)
            raise DuplicateAccount(duplicate.account_id, "same e-mail address" if same_email
                                   else "same phone number and name")

    async def _agreement(self, business_agreement_id: str | None) -> AgreementView | None:
        if business_agreement_id is None:
            return None
        doc = await self.repos.agreements.get(business_agreement_id)
        if doc is None:
            raise UnknownReference("business_agreement_id", business_agreement_id)
        return AgreementView(business_agreement_id, doc["account_id"])

    async def _premise(self, premise_id: str | None) -> PremiseView | None:
        if premise_id is None:
            return None
        doc = await self.repos.premises.get(premise_id)
        if doc is None:
            raise UnknownReference("premise_id", premise_id)
        return PremiseView(premise_id, tuple(doc.get("account_ids", [])), tuple(doc.get("business_agreement_ids", [])))

    @staticmethod
    def _envelope(event: Any, cause: Envelope, purpose: str) -> Envelope:
        return new_envelope(event, source=SOURCE, id=derive_event_id(cause.id, purpose),
                            correlation_id=cause.correlation_id or event.key(), causation_id=cause.id)
