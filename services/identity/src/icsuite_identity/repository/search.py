"""Account search: candidates collected across the criteria and ranked (see :mod:`..domain.ranking`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from ..domain.accounts import AccountRecord
from ..domain.errors import InvalidInput
from rapidfuzz import fuzz, process

from ..domain.keys import full_name_key, name_token_key, names_in_key, street_key
from ..domain.lookups import lookup_pages
from ..domain.normalize import name_tokens, normalize_email, normalize_name, phone_to_e164
from ..domain.ranking import Candidate, SearchCriteria, rank, token_fraction
from .reads import Merged, Reads, get_many

MAX_CANDIDATES = 1000
SIMILARITY_CUTOFF = 85.0
"""Least :func:`word_similarity` of a name within typing errors: ``erika musterman`` to ``erika mustermann``
is 97.4, ``mustremann`` to it 90.0; ``erika musterman`` to ``erika schmidt`` 71.4, to ``max mustermann`` 67.4."""
MAX_SIMILAR = 50


def word_similarity(query: str, label: str, **_: object) -> float:
    """0-100: for each word of the query the best edit-distance similarity (rapidfuzz's normalized
    Indel ratio) to a word of the name, averaged; word order and extra words of the name do not count."""
    words = label.split()
    query_words = query.split()
    if not words or not query_words:
        return 0.0
    return sum(max(fuzz.ratio(q, w) for w in words) for q in query_words) / len(query_words)


def within_reach(query: str, labels: Mapping[str, str]) -> Mapping[str, str]:
    """The labels that can reach the cut-off (a native pre-filter, 4-6 times faster in a crowded postcode):
    :func:`word_similarity` averages the query words' best scores, so with ``k`` words each must reach
    ``100 - k * (100 - cut-off)``; a label without a word that close to the query's longest word cannot."""
    words = query.split()
    floor = 100 - len(words) * (100 - SIMILARITY_CUTOFF)
    if floor <= 0:
        return labels
    vocabulary = {word for label in labels.values() for word in label.split()}
    close = {word for word, _, _ in process.extract_iter(max(words, key=len), vocabulary, scorer=fuzz.ratio,
                                                         score_cutoff=floor)}
    return {account_id: label for account_id, label in labels.items() if not close.isdisjoint(label.split())}


def similar_names(name: str, labels: Mapping[str, str]) -> dict[str, float]:
    """Names within a few typing errors: every folded name of the ``names-in:<postcode>`` pages (``labels``,
    by account id) scored against the query's, those above the cut-off (0-1, at most :data:`MAX_SIMILAR`)
    by account id."""
    query = normalize_name(name)
    if not labels or not query:
        return {}
    similar = process.extract(query, within_reach(query, labels), scorer=word_similarity,
                              score_cutoff=SIMILARITY_CUTOFF, limit=MAX_SIMILAR)
    return {account_id: score / 100 for _, score, account_id in similar}


class Found:
    """What each criterion found (account, criterion, fraction), collected across criteria, and what is
    known of the found accounts' merges."""

    def __init__(self) -> None:
        self.hits: list[tuple[AccountRecord, str, float]] = []
        self._ids: set[str] = set()
        self.merged: Merged = {}
        self._merges_known: set[str] = set()

    def hit(self, account: AccountRecord, criterion: str, fraction: float = 1.0) -> None:
        if account.account_id not in self._ids and len(self._ids) >= MAX_CANDIDATES:
            return
        self._ids.add(account.account_id)
        self.hits.append((account, criterion, fraction))

    def hit_all(self, accounts: Iterable[AccountRecord], criterion: str) -> None:
        for account in accounts:
            self.hit(account, criterion)

    def merges_known(self, account_ids: Iterable[str], merged: Merged) -> None:
        """The merges of ``account_ids`` were read already (or they are answers of a read that resolved
        them): the search does not read them again."""
        self._merges_known.update(account_ids)
        self.merged.update(merged)

    def candidates(self) -> tuple[list[Candidate], dict[str, AccountRecord]]:
        """The ranked candidates, a merged account's hits counting for the account it was merged into."""
        candidates: dict[str, Candidate] = {}
        accounts: dict[str, AccountRecord] = {}
        for found, criterion, fraction in self.hits:
            account = self.merged.get(found.account_id, found)
            if account is None:
                continue
            candidate = candidates.setdefault(account.account_id, Candidate(account.account_id,
                                                                            account.status == "active"))
            candidate.add(criterion, fraction)
            accounts[account.account_id] = account
        return rank(candidates.values()), accounts

    @property
    def merges_unknown(self) -> list[str]:
        return sorted(self._ids - self._merges_known)


class AccountSearch:
    def __init__(self, reads: Reads, default_region: str):
        self.reads = reads
        self.default_region = default_region

    async def search(self, criteria: SearchCriteria) -> tuple[list[Candidate], dict[str, AccountRecord]]:
        criteria.check()
        found = Found()
        await self._by_identifiers(found, criteria)
        if criteria.phone:
            self._hit_resolved(found, await self.reads.by_phone(phone_to_e164(criteria.phone, self.default_region)),
                               "phone")
        if criteria.email:
            self._hit_resolved(found, await self.reads.by_email(normalize_email(criteria.email)), "email")
        if criteria.name and criteria.postcode:
            await self._by_name(found, criteria.name, criteria.postcode)
        if criteria.street and criteria.postcode:
            await self._by_premise_address(found, criteria.street, criteria.postcode)
        found.merges_known(found.merges_unknown, await self.reads.merged_into(found.merges_unknown))
        return found.candidates()

    @staticmethod
    def _hit_resolved(found: Found, accounts: list[AccountRecord], criterion: str) -> None:
        """Hits of a read that answered merged accounts as their targets already (a target is never merged)."""
        found.hit_all(accounts, criterion)
        found.merges_known((a.account_id for a in accounts), {})

    async def _by_identifiers(self, found: Found, criteria: SearchCriteria) -> None:
        if criteria.account_id:
            account = await self.reads.account(criteria.account_id)
            found.hit_all([account] if account else [], "account_id")
        if criteria.business_agreement_id:
            agreement = await self.reads.agreement(criteria.business_agreement_id)
            account = await self.reads.account(agreement.account_id) if agreement else None
            found.hit_all([account] if account else [], "business_agreement_id")

    async def _by_name(self, found: Found, name: str, postcode: str) -> None:
        """The exact name, each word of it, and names within typing errors at the postcode (every page of
        ``names-in:<postcode>``): the lookup documents of all three are read at once, then the accounts they
        list with their merges at once."""
        tokens = name_tokens(name)
        if not tokens:
            raise InvalidInput("name", "the name must contain letters or digits")
        exact_key, similar_key = full_name_key(postcode, name), names_in_key(postcode)
        token_keys, pages = [name_token_key(postcode, t) for t in tokens], lookup_pages(similar_key)
        lookups = await get_many(self.reads.stores.lookups, [exact_key, *token_keys, *pages])
        exact_ids = list(lookups[exact_key].ids) if exact_key in lookups else []
        token_ids = list(dict.fromkeys(i for key in token_keys if key in lookups
                                       for i in lookups[key].ids))[:MAX_CANDIDATES]
        scores = similar_names(name, {i: label for page in pages if page in lookups
                                      for i, label in lookups[page].labels.items()})
        ids = list(dict.fromkeys([*exact_ids, *token_ids, *scores]))
        accounts, merged = await self.reads.accounts_with_merges(ids)
        found.merges_known(ids, merged)
        found.hit_all((accounts[i] for i in exact_ids if i in accounts and exact_key in accounts[i].keys()),
                      "name_exact")
        every_word: set[str] = set()
        for account_id in token_ids:
            account = accounts.get(account_id)
            fraction = token_fraction(token_keys, account.keys()) if account is not None else 0.0
            if account is not None and fraction > 0:
                found.hit(account, "name", fraction)
            if fraction == 1:
                every_word.add(account_id)
        for account_id, score in scores.items():  # not counted twice; a stale entry is never answered
            account = accounts.get(account_id)
            if account is not None and account_id not in every_word and similar_key in account.keys():
                found.hit(account, "name_similar", score)

    async def _by_premise_address(self, found: Found, street: str, postcode: str) -> None:
        premises = await self.reads.find_by_key(self.reads.stores.premises, street_key(postcode, street))
        account_ids = list(dict.fromkeys(a for p in premises for a in p.account_ids))
        accounts = await get_many(self.reads.stores.accounts, account_ids[:MAX_CANDIDATES])
        found.hit_all(accounts.values(), "premise_address")
