"""Account search: candidates collected across the criteria and ranked (see :mod:`..domain.ranking`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..domain.accounts import AccountRecord
from ..domain.errors import InvalidInput
from rapidfuzz import fuzz, process

from ..domain.keys import full_name_key, name_token_key, names_in_key, street_key
from ..domain.normalize import name_tokens, normalize_email, normalize_name, phone_to_e164
from ..domain.ranking import Candidate, SearchCriteria, rank, token_fraction
from .reads import Reads, get_many

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


class Found:
    """What each criterion found (account, criterion, fraction), collected across criteria."""

    def __init__(self) -> None:
        self.hits: list[tuple[AccountRecord, str, float]] = []
        self._ids: set[str] = set()

    def hit(self, account: AccountRecord, criterion: str, fraction: float = 1.0) -> None:
        if account.account_id not in self._ids and len(self._ids) >= MAX_CANDIDATES:
            return
        self._ids.add(account.account_id)
        self.hits.append((account, criterion, fraction))

    def hit_all(self, accounts: Iterable[AccountRecord], criterion: str) -> None:
        for account in accounts:
            self.hit(account, criterion)

    def candidates(self, merged_into: Mapping[str, AccountRecord | None]) -> tuple[list[Candidate],
                                                                                   dict[str, AccountRecord]]:
        """The ranked candidates, a merged account's hits counting for the account it was merged into."""
        candidates: dict[str, Candidate] = {}
        accounts: dict[str, AccountRecord] = {}
        for found, criterion, fraction in self.hits:
            account = merged_into.get(found.account_id, found)
            if account is None:
                continue
            candidate = candidates.setdefault(account.account_id, Candidate(account.account_id,
                                                                            account.status == "active"))
            candidate.add(criterion, fraction)
            accounts[account.account_id] = account
        return rank(candidates.values()), accounts

    @property
    def account_ids(self) -> list[str]:
        return sorted(self._ids)


class AccountSearch:
    def __init__(self, reads: Reads, default_region: str):
        self.reads = reads
        self.default_region = default_region

    async def search(self, criteria: SearchCriteria) -> tuple[list[Candidate], dict[str, AccountRecord]]:
        criteria.check()
        found = Found()
        await self._by_identifiers(found, criteria)
        if criteria.phone:
            found.hit_all(await self.reads.by_phone(phone_to_e164(criteria.phone, self.default_region)), "phone")
        if criteria.email:
            found.hit_all(await self.reads.by_email(normalize_email(criteria.email)), "email")
        if criteria.name and criteria.postcode:
            await self._by_name(found, criteria.name, criteria.postcode)
        if criteria.street and criteria.postcode:
            await self._by_premise_address(found, criteria.street, criteria.postcode)
        return found.candidates(await self.reads.merged_into(found.account_ids))

    async def _by_identifiers(self, found: Found, criteria: SearchCriteria) -> None:
        if criteria.account_id:
            account = await self.reads.account(criteria.account_id)
            found.hit_all([account] if account else [], "account_id")
        if criteria.business_agreement_id:
            agreement = await self.reads.agreement(criteria.business_agreement_id)
            account = await self.reads.account(agreement.account_id) if agreement else None
            found.hit_all([account] if account else [], "business_agreement_id")

    async def _by_name(self, found: Found, name: str, postcode: str) -> None:
        tokens = name_tokens(name)
        if not tokens:
            raise InvalidInput("name", "the name must contain letters or digits")
        accounts = self.reads.stores.accounts
        found.hit_all(await self.reads.find_by_key(accounts, full_name_key(postcode, name)), "name_exact")
        token_keys = [name_token_key(postcode, t) for t in tokens]
        ids_by_key = await self.reads.ids_of_each(token_keys)
        ids = list(dict.fromkeys(i for key in token_keys for i in ids_by_key[key]))[:MAX_CANDIDATES]
        every_word: set[str] = set()
        for account in (await get_many(accounts, ids)).values():
            fraction = token_fraction(token_keys, account.keys())
            if fraction > 0:
                found.hit(account, "name", fraction)
            if fraction == 1:
                every_word.add(account.account_id)
        await self._by_similar_name(found, name, postcode, every_word)

    async def _by_similar_name(self, found: Found, name: str, postcode: str, every_word: set[str]) -> None:
        """Names within a few typing errors: every name at the postcode (one lookup document with the
        folded names) scored against the query's; those above the cut-off are read and checked. Accounts
        that matched every word of the query exactly are not counted twice."""
        key = names_in_key(postcode)
        stored = await self.reads.stores.lookups.get(key)
        if stored is None or not stored.state.labels:
            return
        similar = process.extract(normalize_name(name), stored.state.labels, scorer=word_similarity,
                                  score_cutoff=SIMILARITY_CUTOFF, limit=MAX_SIMILAR)
        scores = {account_id: score / 100 for _, score, account_id in similar if account_id not in every_word}
        for account in (await get_many(self.reads.stores.accounts, list(scores))).values():
            if key in account.keys():  # still at that postcode (a stale entry is never answered)
                found.hit(account, "name_similar", scores[account.account_id])

    async def _by_premise_address(self, found: Found, street: str, postcode: str) -> None:
        premises = await self.reads.find_by_key(self.reads.stores.premises, street_key(postcode, street))
        account_ids = list(dict.fromkeys(a for p in premises for a in p.account_ids))
        accounts = await get_many(self.reads.stores.accounts, account_ids[:MAX_CANDIDATES])
        found.hit_all(accounts.values(), "premise_address")
