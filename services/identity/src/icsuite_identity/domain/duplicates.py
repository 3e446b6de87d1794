"""The duplicate report: pairs of accounts that are probably the same customer.

Read from the lookup documents (the inverted index every search uses): two accounts listed under the same
phone number (``phone:``) or e-mail address (``email:``), or two accounts in one postcode (``names-in:``,
labelled with their folded names) whose names are similar and whose street addresses are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

from .accounts import AccountRecord
from .lookups import Lookup
from .normalize import normalize_postcode, normalize_street

PAIRS_PER_KEY = 20
"""Accounts of one key paired at most (a number shared by hundreds is a switchboard, not a duplicate)."""
REASONS = {"phone": "same_phone", "email": "same_email"}
SIMILAR_NAME_AT_ADDRESS = "similar_name_same_address"

Similarity = Callable[[str, str], float]


@dataclass(frozen=True)
class SuspectPair:
    account_ids: tuple[str, str]
    """The two accounts, in id order."""
    reason: str
    key: str
    """The lookup key they share (the number, e-mail address or postcode)."""


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def identifier_pairs(lookup: Lookup) -> list[SuspectPair]:
    """Accounts listed under one phone number or e-mail address."""
    kind = lookup.key.split(":", 1)[0]
    if kind not in REASONS or len(lookup.ids) < 2:
        return []
    ids = sorted(lookup.ids)[:PAIRS_PER_KEY]
    return [SuspectPair(_pair(a, b), REASONS[kind], lookup.key) for a, b in combinations(ids, 2)]


def similar_name_candidates(lookup: Lookup, similarity: Similarity, cutoff: float) -> list[tuple[str, str]]:
    """Pairs of accounts in one postcode (a ``names-in:`` key) whose folded names are similar."""
    if not lookup.key.startswith("names-in:") or len(lookup.labels) < 2:
        return []
    labelled = sorted(lookup.labels.items())[: PAIRS_PER_KEY * 5]
    return [_pair(a, b) for (a, name_a), (b, name_b) in combinations(labelled, 2)
            if similarity(name_a, name_b) >= cutoff]


def same_address(a: AccountRecord, b: AccountRecord) -> bool:
    """The same street and house number in the same postcode (spelling of ``Straße`` aside)."""
    if not a.address or not b.address:
        return False
    return (normalize_street(a.address.get("street", "")) == normalize_street(b.address.get("street", ""))
            and normalize_postcode(a.address.get("postcode", "")) == normalize_postcode(b.address.get("postcode", ""))
            and bool(normalize_street(a.address.get("street", ""))))


def address_pairs(lookup: Lookup, candidates: Iterable[tuple[str, str]],
                  accounts: Mapping[str, AccountRecord]) -> list[SuspectPair]:
    return [SuspectPair(pair, SIMILAR_NAME_AT_ADDRESS, lookup.key) for pair in candidates
            if pair[0] in accounts and pair[1] in accounts and same_address(accounts[pair[0]], accounts[pair[1]])]
