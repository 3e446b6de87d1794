"""Topic ``ic.identity.v1``: who a contact or a callback requester is, produced by the identity service.

Keyed by ``contact_id`` (contact identified), ``request_id`` (caller identified) or ``account_id``
(account created).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import E164, MAX_LIST_ITEMS, EmailText, Event, Id, PhoneText, ShortText
from .personal import PERSONAL
from .masterdata_v1 import AccountKind, Address

TOPIC = "ic.identity.v1"

IdentificationMethod = Literal["auto_number", "auto_email", "agent_search", "customer_provided"]
Candidates = Annotated[list[Id], Field(max_length=MAX_LIST_ITEMS)]


class _IdentityEvent(Event):
    topic = TOPIC


class ContactIdentified(_IdentityEvent):
    """The business object context of a contact was determined automatically or confirmed by an agent."""

    ce_type = "ic.identity.contact-identified.v1"
    key_field = "contact_id"

    contact_id: Id = Field(description="The contact.", examples=["ct-7f3a9"])
    account_id: Id | None = Field(
        default=None, description="The identified account; null when none or several matched.", examples=["acc-100200"]
    )
    business_agreement_id: Id | None = Field(
        default=None, description="The business agreement in context, if determined.", examples=["ba-300400"]
    )
    premise_id: Id | None = Field(
        default=None, description="The premise in context, if determined.", examples=["pr-500600"]
    )
    method: IdentificationMethod = Field(description="How the account was found.", examples=["auto_number"])
    confirmed: bool = Field(description="Whether an agent or the customer confirmed it.", examples=[False])
    agent_id: Id | None = Field(default=None, description="The agent who confirmed it, if any.", examples=["a-17"])
    candidates: Candidates = Field(
        default_factory=list,
        description="Accounts that matched, best first, when the match is not unique.",
        examples=[["acc-100200", "acc-100201"]],
    )


class CallerIdentified(_IdentityEvent):
    """The requester of a callback was looked up by the number to call back."""

    ce_type = "ic.identity.caller-identified.v1"
    key_field = "request_id"

    request_id: Id = Field(description="The callback request.", examples=["cbr-5521"])
    callback_number: Annotated[E164 | None, PERSONAL] = Field(
        default=None, description="The number that was looked up.", examples=["+4930123456"]
    )
    account_id: Id | None = Field(
        default=None, description="The account, when exactly one matched.", examples=["acc-100200"]
    )
    candidates: Candidates = Field(
        default_factory=list, description="Accounts that matched, best first.", examples=[["acc-100200"]]
    )


class AccountCreated(_IdentityEvent):
    """An account was created in the suite (e.g. by an agent for a new customer)."""

    ce_type = "ic.identity.account-created.v1"
    key_field = "account_id"

    account_id: Id = Field(description="The new account.", examples=["acc-900001"])
    kind: AccountKind = Field(description="A person or an organisation.", examples=["person"])
    name: Annotated[ShortText, PERSONAL] = Field(description="The account's display name.", examples=["Max Mustermann"])
    phones: Annotated[list[PhoneText], Field(max_length=MAX_LIST_ITEMS), PERSONAL] = Field(
        default_factory=list, description="Phone numbers.", examples=[["+4930123456"]]
    )
    emails: Annotated[list[EmailText], Field(max_length=MAX_LIST_ITEMS), PERSONAL] = Field(
        default_factory=list, description="E-mail addresses.", examples=[["max@example.org"]]
    )
    address: Address | None = Field(default=None, description="The postal address, if given.")
    created_by: Id | None = Field(
        default=None, description="The agent or system that created it.", examples=["a-17"]
    )


EVENT_TYPES = (ContactIdentified, CallerIdentified, AccountCreated)
