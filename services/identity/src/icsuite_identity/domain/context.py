"""The business object context of a contact: the automatic identification and the confirmations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from icsuite_chassis.store import Change, Stored
from icsuite_contracts.cloudevents import Envelope
from icsuite_contracts.identity_v1 import ContactIdentified

from .errors import ContactNotReported, Mismatch, NotTheContactsAgent
from .normalize import ContactAddress

Outcome = Literal["identified", "ambiguous", "not_found", "not_attempted"]
Method = Literal["auto_number", "auto_email", "agent_search", "customer_provided"]
MAX_CANDIDATES = 100
Emit = Callable[[ContactIdentified], Envelope]


@dataclass(frozen=True)
class AutomaticIdentification:
    outcome: Outcome
    method: Method | None
    account_id: str | None
    candidates: tuple[str, ...]
    looked_up: str | None
    at: datetime


def identify_automatically(address: ContactAddress | None, matches: Sequence[str], at: datetime, *,
                           hinted_account: str | None = None) -> AutomaticIdentification:
    """One match identifies the account; several are candidates; none is recorded as such.

    An account id the channel already knows (``account_hint``) and that exists wins over a lookup.
    """
    if hinted_account is not None:
        return AutomaticIdentification("identified", "customer_provided", hinted_account, (hinted_account,),
                                       "account_hint", at)
    if address is None:
        return AutomaticIdentification("not_attempted", None, None, (), None, at)
    method: Method = "auto_number" if address.kind == "phone" else "auto_email"
    candidates = tuple(dict.fromkeys(matches))[:MAX_CANDIDATES]
    if len(candidates) == 1:
        return AutomaticIdentification("identified", method, candidates[0], candidates, address.kind, at)
    outcome: Outcome = "ambiguous" if candidates else "not_found"
    return AutomaticIdentification(outcome, method, None, candidates, address.kind, at)


@dataclass(frozen=True)
class AgreementView:
    business_agreement_id: str
    account_id: str


@dataclass(frozen=True)
class PremiseView:
    premise_id: str
    account_ids: tuple[str, ...]
    business_agreement_ids: tuple[str, ...]
    agreement_owners: tuple[str, ...] = ()
    """The holders of its agreements, for a premise that lists no accounts of its own."""


def check_belongs_together(account_id: str, agreement: AgreementView | None,
                           premise: PremiseView | None) -> None:
    if agreement is not None and agreement.account_id != account_id:
        raise Mismatch("business_agreement_id", f"business agreement {agreement.business_agreement_id} "
                       f"does not belong to account {account_id}")
    if premise is None:
        return
    supplied = agreement is not None and agreement.business_agreement_id in premise.business_agreement_ids
    linked = account_id in premise.account_ids or account_id in premise.agreement_owners
    if not linked and not supplied:
        raise Mismatch("premise_id", f"premise {premise.premise_id} is not linked to account {account_id}")
    if agreement is not None and premise.business_agreement_ids and not supplied:
        raise Mismatch("premise_id", f"premise {premise.premise_id} is not supplied under business agreement "
                       f"{agreement.business_agreement_id}")


@dataclass(frozen=True)
class Confirmation:
    account_id: str
    business_agreement_id: str | None
    premise_id: str | None
    agent_id: str
    method: Method
    confirmed_at: datetime


@dataclass(frozen=True)
class ReportedContact:
    """What the channel reported when the contact started."""

    channel: str
    direction: str
    address: str
    started_at: datetime
    correlation_id: str


@dataclass(frozen=True)
class ContactContext:
    """The context of one contact (``_id`` = ``contact_id``)."""

    contact_id: str
    created_at: datetime
    updated_at: datetime
    contact: ReportedContact | None = None
    reported: bool = False
    """A channel reported the contact (it started, or a segment of it was recorded)."""
    agent_ids: tuple[str, ...] = ()
    """The agents the channel reported handling the contact (agent segments), in order."""
    automatic: AutomaticIdentification | None = None
    confirmed: Confirmation | None = None
    history: tuple[Confirmation, ...] = ()

    @property
    def account_id(self) -> str | None:
        """The confirmed account, else the one identified automatically."""
        if self.confirmed is not None:
            return self.confirmed.account_id
        return self.automatic.account_id if self.automatic is not None else None


def _current(current: Stored[ContactContext] | None, contact_id: str, now: datetime) -> ContactContext:
    return current.state if current is not None else ContactContext(contact_id, now, now)


def decide_automatic(current: Stored[ContactContext] | None, contact_id: str, found: AutomaticIdentification,
                     contact: ReportedContact, emit: Emit) -> Change[ContactContext]:
    """Store the automatic result; its event is emitted only while no agent has confirmed the contact."""
    context = replace(_current(current, contact_id, found.at), automatic=found, contact=contact, reported=True,
                      updated_at=found.at)
    if found.account_id is None or context.confirmed is not None:
        return Change(context)
    event = ContactIdentified(contact_id=contact_id, account_id=found.account_id, method=found.method or "auto_number",
                              confirmed=False, candidates=list(found.candidates))
    return Change(context, [emit(event)])


@dataclass(frozen=True)
class Actor:
    """Who asks to change a context: the token's subject, and whether it may act for any agent."""

    agent_id: str
    supervisor: bool = False


def decide_segment(current: Stored[ContactContext] | None, contact_id: str, agent_id: str | None,
                   now: datetime) -> Change[ContactContext] | None:
    """A segment reports the contact, and its agent (if any) as one handling it."""
    context = _current(current, contact_id, now)
    agents = context.agent_ids if agent_id is None or agent_id in context.agent_ids else (*context.agent_ids, agent_id)
    if context.reported and agents == context.agent_ids:
        return None
    return Change(replace(context, reported=True, agent_ids=agents, updated_at=now))


def check_may_set(context: ContactContext | None, contact_id: str, actor: Actor) -> ContactContext:
    """Only a contact a channel reported has a context to set (404), and only its agent or a supervisor
    sets it (403)."""
    if context is None or not context.reported:
        raise ContactNotReported(contact_id)
    if not actor.supervisor and actor.agent_id not in context.agent_ids:
        raise NotTheContactsAgent(contact_id, actor.agent_id)
    return context


def decide_confirm(current: Stored[ContactContext] | None, contact_id: str, confirmation: Confirmation,
                   actor: Actor, emit: Emit) -> Change[ContactContext]:
    """Record the confirmation (kept in the history) and emit it as confirmed."""
    context = check_may_set(current.state if current is not None else None, contact_id, actor)
    context = replace(context, confirmed=confirmation, history=(*context.history, confirmation),
                      updated_at=confirmation.confirmed_at)
    event = ContactIdentified(contact_id=contact_id, account_id=confirmation.account_id,
                              business_agreement_id=confirmation.business_agreement_id,
                              premise_id=confirmation.premise_id, method=confirmation.method, confirmed=True,
                              agent_id=confirmation.agent_id)
    return Change(context, [emit(event)])
