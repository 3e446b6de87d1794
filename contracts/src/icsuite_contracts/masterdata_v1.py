"""Topic ``ic.masterdata.v1``: full snapshots replicated from billing / ERP, keyed by ``account_id``.

Every snapshot carries ``source_version``; a consumer never lets an older version overwrite a newer one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import (
    INT64_MAX,
    MAX_LIST_ITEMS,
    CalendarDate,
    Code,
    CountryCode,
    CurrencyCode,
    EmailText,
    Event,
    Id,
    Money,
    PhoneText,
    ShortText,
    Value,
)
from .personal import PERSONAL

TOPIC = "ic.masterdata.v1"

AccountKind = Literal["person", "organisation"]
IdList = Annotated[list[Id], Field(max_length=MAX_LIST_ITEMS)]
SourceVersion = Annotated[
    int,
    Field(
        ge=0,
        le=INT64_MAX,
        description="The version in the source system; an older one never overwrites a newer one.",
        examples=[42],
    ),
]


class Address(Value):
    """A postal address."""

    street: Annotated[ShortText, PERSONAL] = Field(description="Street and house number.", examples=["Hauptstr. 5"])
    postcode: Annotated[ShortText, PERSONAL] = Field(description="Postal code.", examples=["10115"])
    city: Annotated[ShortText, PERSONAL] = Field(description="City or town.", examples=["Berlin"])
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 country code.", examples=["DE"])


class OpenBill(Value):
    """A bill that is not fully paid yet."""

    bill_id: Id = Field(description="The bill.", examples=["bill-2025-0042"])
    amount: Money = Field(description="The amount still open.", examples=[84.5])
    due_date: CalendarDate = Field(description="When the bill is due.", examples=["2025-03-15"])


class _MasterdataEvent(Event):
    topic = TOPIC
    key_field = "account_id"


class AccountUpserted(_MasterdataEvent):
    """The full current state of an account (business partner) in the source system."""

    ce_type = "ic.masterdata.account-upserted.v1"

    account_id: Id = Field(description="The account (business partner).", examples=["acc-100200"])
    source_version: SourceVersion
    kind: AccountKind = Field(description="A person or an organisation.", examples=["person"])
    name: Annotated[ShortText, PERSONAL] = Field(description="The account's display name.", examples=["Erika Mustermann"])
    phones: Annotated[list[PhoneText], Field(max_length=MAX_LIST_ITEMS), PERSONAL] = Field(
        default_factory=list, description="Phone numbers as the source holds them.", examples=[["+4930123456"]]
    )
    emails: Annotated[list[EmailText], Field(max_length=MAX_LIST_ITEMS), PERSONAL] = Field(
        default_factory=list, description="E-mail addresses.", examples=[["erika@example.org"]]
    )
    address: Address | None = Field(default=None, description="The postal address, if known.")
    flags: Annotated[list[Code], Field(max_length=MAX_LIST_ITEMS)] = Field(
        default_factory=list, description="Markers set in the source system.", examples=[["vip"]]
    )
    status: Code = Field(default="active", description="The account's status.", examples=["active"])


class BusinessAgreementUpserted(_MasterdataEvent):
    """The full current state of a business agreement (contract account) with its balance and bills."""

    ce_type = "ic.masterdata.business-agreement-upserted.v1"

    business_agreement_id: Id = Field(description="The business agreement.", examples=["ba-300400"])
    account_id: Id = Field(description="The account that holds it.", examples=["acc-100200"])
    source_version: SourceVersion
    balance: Money = Field(description="The current balance; positive means the customer owes.", examples=[120.75])
    currency: CurrencyCode = Field(description="ISO 4217 currency of all amounts.", examples=["EUR"])
    open_bills: Annotated[list[OpenBill], Field(max_length=1000)] = Field(
        default_factory=list, description="Bills not fully paid yet."
    )
    dunning_level: int = Field(ge=0, le=9, description="The dunning level, 0 (none) to 9.", examples=[1])
    credit_status: Code = Field(description="The credit standing.", examples=["good"])


class PremiseUpserted(_MasterdataEvent):
    """The full current state of a premise (a supply address) and who holds it.

    Keyed by its first account so that it stays in order with that account's events;
    a premise without accounts is keyed by ``premise_id``.
    """

    ce_type = "ic.masterdata.premise-upserted.v1"

    premise_id: Id = Field(description="The premise.", examples=["pr-500600"])
    source_version: SourceVersion
    address: Address = Field(description="Where the premise is.")
    account_ids: IdList = Field(default_factory=list, description="Accounts linked to the premise.", examples=[["acc-100200"]])
    business_agreement_ids: IdList = Field(
        default_factory=list, description="Business agreements supplying the premise.", examples=[["ba-300400"]]
    )

    def key(self) -> str:
        return self.account_ids[0] if self.account_ids else self.premise_id


EVENT_TYPES = (AccountUpserted, BusinessAgreementUpserted, PremiseUpserted)
