"""The gateway's request and response bodies. Requests accept only the right JSON types, so an
operator such as ``{"$ne": null}`` in any field is refused with 422 before it reaches a handler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, StringConstraints, model_validator

from .domain.accounts import AccountRecord
from .domain.context import Confirmation, ContactContext
from .domain.masterdata import Agreement, Premise
from .domain.ranking import Candidate
from .repository.reads import AccountSummary as AccountSummaryRead

IdText = Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]
Label = Annotated[StrictStr, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AddressIn(_Request):
    street: Label
    postcode: Annotated[StrictStr, StringConstraints(min_length=1, max_length=16, strip_whitespace=True)]
    city: Label
    country: Annotated[StrictStr, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(examples=["DE"])


class CreateAccountRequest(_Request):
    kind: Literal["person", "organisation"]
    name: Label = Field(examples=["Erika Mustermann"])
    phones: Annotated[list[Annotated[StrictStr, StringConstraints(min_length=1, max_length=32)]],
                      Field(max_length=10)] = Field(default_factory=list, examples=[["030 123456"]])
    emails: Annotated[list[Annotated[StrictStr, StringConstraints(min_length=3, max_length=254)]],
                      Field(max_length=10)] = Field(default_factory=list, examples=[["erika@example.org"]])
    address: AddressIn | None = None
    allow_duplicate: StrictBool = Field(default=False, description="Create it even though it is probably a "
                                        "duplicate of the accounts a 409 named.")
    contact_id: IdText | None = Field(default=None, description="Link the new account to this contact's "
                                      "context as confirmed (the caller must be its agent or a supervisor).")


class ConfirmContextRequest(_Request):
    account_id: IdText | None = Field(default=None, description="Derived from the business agreement or the "
                                      "premise when not given (409 naming the candidates when several own it).")
    business_agreement_id: IdText | None = None
    premise_id: IdText | None = None
    method: Literal["agent_search", "customer_provided"] = Field(
        default="agent_search", description="How the agent found the account.")

    @model_validator(mode="after")
    def _names_an_object(self) -> ConfirmContextRequest:
        if not (self.account_id or self.business_agreement_id or self.premise_id):
            raise ValueError("name account_id, business_agreement_id or premise_id")
        return self


class Address(BaseModel):
    street: str
    postcode: str
    city: str
    country: str


class AccountOut(BaseModel):
    account_id: str
    kind: str
    name: str
    phones: list[str]
    emails: list[str]
    address: Address | None = None
    flags: list[str] = []
    status: str = "active"


class SearchItem(AccountOut):
    score: float = Field(description="Higher is a better match; exact identifiers score highest.")
    matched_by: list[str] = Field(description="The criteria this account matched.")


class OpenBillOut(BaseModel):
    bill_id: str
    amount: float
    due_date: str


class BusinessAgreementOut(BaseModel):
    business_agreement_id: str
    balance: float
    currency: str
    open_bills: list[OpenBillOut]
    dunning_level: int
    credit_status: str


class PremiseOut(BaseModel):
    premise_id: str
    address: Address
    account_ids: list[str]
    business_agreement_ids: list[str]


class PremiseDetail(PremiseOut):
    accounts: list[AccountOut] = Field(description="The accounts linked to the premise.")
    business_agreements: list[BusinessAgreementOut] = Field(description="The agreements supplying it.")


class BusinessAgreementDetail(BusinessAgreementOut):
    account_id: str
    premises: list[PremiseOut] = Field(description="The premises supplied under the agreement.")


class AccountSummary(AccountOut):
    addresses: list[Address] = Field(description="The postal address and the addresses of the premises.")
    business_agreements: list[BusinessAgreementOut]
    premises: list[PremiseOut]


class IdentificationOut(BaseModel):
    outcome: Literal["identified", "ambiguous", "not_found", "not_attempted"]
    method: str | None
    account_id: str | None
    candidates: list[str]
    looked_up: str | None = Field(description="phone, email or account_hint")
    at: datetime


class ConfirmationOut(BaseModel):
    account_id: str
    business_agreement_id: str | None
    premise_id: str | None
    agent_id: str
    method: str
    confirmed_at: datetime


class ContextOut(BaseModel):
    contact_id: str
    account_id: str | None = Field(description="The confirmed account, else the one identified automatically.")
    business_agreement_id: str | None
    premise_id: str | None
    confirmed: bool
    candidates: list[str]
    identification: IdentificationOut | None
    confirmation: ConfirmationOut | None
    history: list[ConfirmationOut] = Field(description="Every confirmation, oldest first.")
    agent_ids: list[str] = Field(default_factory=list,
                                 description="The agents the channel reported handling the contact.")


def _money(text: Any) -> float:
    return float(Decimal(str(text)))


def account_out(account: AccountRecord) -> dict[str, Any]:
    return {"account_id": account.account_id, "kind": account.kind, "name": account.name,
            "phones": list(account.phones), "emails": list(account.emails),
            "address": dict(account.address) if account.address else None, "flags": list(account.flags),
            "status": account.status}


def search_item(candidate: Candidate, account: AccountRecord) -> SearchItem:
    return SearchItem(**account_out(account), score=candidate.score, matched_by=candidate.matched_by)


def agreement_out(agreement: Agreement) -> BusinessAgreementOut:
    bills = [OpenBillOut(bill_id=b.bill_id, amount=_money(b.amount), due_date=b.due_date)
             for b in agreement.open_bills]
    return BusinessAgreementOut(business_agreement_id=agreement.business_agreement_id,
                                balance=_money(agreement.balance), currency=agreement.currency, open_bills=bills,
                                dunning_level=agreement.dunning_level, credit_status=agreement.credit_status)


def premise_out(premise: Premise) -> PremiseOut:
    return PremiseOut(premise_id=premise.premise_id, address=Address(**premise.address),
                      account_ids=list(premise.account_ids),
                      business_agreement_ids=list(premise.business_agreement_ids))


def summary_out(found: AccountSummaryRead) -> AccountSummary:
    account = account_out(found.account)
    premises = [premise_out(p) for p in found.premises]
    addresses = [Address(**account["address"])] if account["address"] else []
    addresses += [p.address for p in premises if p.address not in addresses]
    return AccountSummary(**account, addresses=addresses, premises=premises,
                          business_agreements=[agreement_out(a) for a in found.agreements])


def _confirmation_out(confirmation: Confirmation) -> ConfirmationOut:
    return ConfirmationOut(**asdict(confirmation))


def context_out(context: ContactContext, merged: Mapping[str, str] | None = None) -> ContextOut:
    """The context; ``merged``: accounts merged into another now, each with it (its ``account_id`` and
    ``candidates`` answer the surviving account, each once; the identification and confirmations stay as made)."""
    automatic, confirmed, merged = context.automatic, context.confirmed, merged or {}
    account_id = merged.get(context.account_id, context.account_id) if context.account_id else None
    candidates = dict.fromkeys(merged.get(c, c) for c in (automatic.candidates if automatic else ()))
    return ContextOut(
        contact_id=context.contact_id, account_id=account_id,
        business_agreement_id=confirmed.business_agreement_id if confirmed else None,
        premise_id=confirmed.premise_id if confirmed else None, confirmed=confirmed is not None,
        candidates=list(candidates),
        identification=IdentificationOut(**{**asdict(automatic), "candidates": list(automatic.candidates)})
        if automatic else None,
        confirmation=_confirmation_out(confirmed) if confirmed else None,
        history=[_confirmation_out(c) for c in context.history], agent_ids=list(context.agent_ids))


def premise_detail(premise: Premise, accounts: list[AccountRecord], agreements: list[Agreement]) -> PremiseDetail:
    return PremiseDetail(**premise_out(premise).model_dump(), accounts=[AccountOut(**account_out(a)) for a in accounts],
                         business_agreements=[agreement_out(a) for a in agreements])


def agreement_detail(agreement: Agreement, premises: list[Premise]) -> BusinessAgreementDetail:
    return BusinessAgreementDetail(**agreement_out(agreement).model_dump(), account_id=agreement.account_id,
                                   premises=[premise_out(p) for p in premises])
