"""Search criteria and the ranking of candidates: exact identifiers first, then phone and e-mail,
then name and address matches; among equally strong matches, accounts that match more criteria first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .errors import CriteriaError

CRITERIA = ("phone", "email", "account_id", "business_agreement_id", "name+postcode", "street+postcode")

WEIGHTS = {
    "account_id": 1000,
    "business_agreement_id": 900,
    "phone": 500,
    "email": 500,
    "name_exact": 300,
    "premise_address": 200,
    "name": 100,
    "name_similar": 90,
}
"""``name_similar``: a name within a few typing errors of the query's (scaled by the similarity), so it
ranks below an exact name and adds to the words of the name found exactly."""


Position = tuple[int, float, int, str]
"""Where a candidate sorts: strongest criterion, total score, active first, account id."""


@dataclass(frozen=True)
class SearchCriteria:
    phone: str | None = None
    email: str | None = None
    account_id: str | None = None
    business_agreement_id: str | None = None
    name: str | None = None
    postcode: str | None = None
    street: str | None = None

    def check(self) -> None:
        """Refuse a request without any criterion, or a name or street without a postcode."""
        if (self.name or self.street) and not self.postcode:
            raise CriteriaError("a name or street search needs a postcode", CRITERIA)
        present = [self.phone, self.email, self.account_id, self.business_agreement_id, self.name, self.street]
        if not any(v for v in present):
            raise CriteriaError("give at least one search criterion", CRITERIA)


@dataclass
class Candidate:
    """An account found by one or more criteria; ``score`` adds up the weights of what matched."""

    account_id: str
    active: bool = True
    matched_by: list[str] = field(default_factory=list)
    score: float = 0.0

    def add(self, criterion: str, fraction: float = 1.0) -> None:
        if criterion in self.matched_by:
            return
        self.matched_by.append(criterion)
        self.score += round(WEIGHTS[criterion] * fraction, 3)

    @property
    def tier(self) -> int:
        """The weight of the strongest criterion matched: an exact identifier outranks any combination."""
        return max((WEIGHTS[c] for c in self.matched_by), default=0)

    def sort_key(self) -> Position:
        return (-self.tier, -self.score, 0 if self.active else 1, self.account_id)


def token_fraction(query_tokens: Sequence[str], account_tokens: Iterable[str]) -> float:
    """How much of the query's name the account's name covers (0 to 1)."""
    if not query_tokens:
        return 0.0
    have = set(account_tokens)
    return sum(1 for t in query_tokens if t in have) / len(query_tokens)


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=Candidate.sort_key)


def page_after(ranked: Sequence[Candidate], position: Position | None,
               limit: int) -> tuple[list[Candidate], Position | None]:
    """The page of ``ranked`` after ``position`` and the position of its last item when more follow."""
    start = 0
    if position is not None:
        start = next((i for i, c in enumerate(ranked) if c.sort_key() > position), len(ranked))
    items = list(ranked[start:start + limit])
    more = start + limit < len(ranked)
    return items, (items[-1].sort_key() if more and items else None)
