"""The business object context of a contact: the automatic identification and the confirmations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from .normalize import ContactAddress

Outcome = Literal["identified", "ambiguous", "not_found", "not_attempted"]
Method = Literal["auto_number", "auto_email", "agent_search", "customer_provided"]
MAX_CANDIDATES = 100


@dataclass(frozen=True)
class AutomaticIdentification:
    outcome: Outcome
    method: Method | None
    account_id: str | None
    candidates: tuple[str, ...]
    looked_up: str | None
    at: datetime

    def as_document(self) -> dict[str, Any]:
        return {**asdict(self), "candidates": list(self.candidates)}


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


class Mismatch(ValueError):
    """The objects to confirm do not belong together; ``field`` names the one that does not fit."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def check_belongs_together(account_id: str, agreement: AgreementView | None,
                           premise: PremiseView | None) -> None:
    if agreement is not None and agreement.account_id != account_id:
        raise Mismatch("business_agreement_id", f"business agreement {agreement.business_agreement_id} "
                       f"does not belong to account {account_id}")
    if premise is None:
        return
    supplied = agreement is not None and agreement.business_agreement_id in premise.business_agreement_ids
    if account_id not in premise.account_ids and not supplied:
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

    def as_document(self) -> dict[str, Any]:
        return asdict(self)
