"""Account search: candidates collected across the criteria and ranked (see :mod:`..domain.ranking`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..domain.accounts import AccountRecord
from ..domain.errors import InvalidInput
from ..domain.keys import full_name_key, name_token_key, street_key
from ..domain.normalize import name_tokens, normalize_email, phone_to_e164
from ..domain.ranking import Candidate, SearchCriteria, rank, token_fraction
from .reads import Reads, get_many

MAX_CANDIDATES = 1000


class Found:
    """Candidates collected across criteria, with the accounts they came from."""

    def __init__(self) -> None:
        self.candidates: dict[str, Candidate] = {}
        self.accounts: dict[str, AccountRecord] = {}

    def hit(self, account: AccountRecord, criterion: str, fraction: float = 1.0) -> None:
        account_id = account.account_id
        if account_id not in self.candidates and len(self.candidates) >= MAX_CANDIDATES:
            return
        candidate = self.candidates.setdefault(account_id, Candidate(account_id, account.status == "active"))
        candidate.add(criterion, fraction)
        self.accounts[account_id] = account

    def hit_all(self, accounts: Iterable[AccountRecord], criterion: str) -> None:
        for account in accounts:
            self.hit(account, criterion)


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
        return rank(found.candidates.values()), found.accounts

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
        for account in (await get_many(accounts, ids)).values():
            fraction = token_fraction(token_keys, account.keys())
            if fraction > 0:
                found.hit(account, "name", fraction)

    async def _by_premise_address(self, found: Found, street: str, postcode: str) -> None:
        premises = await self.reads.find_by_key(self.reads.stores.premises, street_key(postcode, street))
        account_ids = list(dict.fromkeys(a for p in premises for a in p.account_ids))
        accounts = await get_many(self.reads.stores.accounts, account_ids[:MAX_CANDIDATES])
        found.hit_all(accounts.values(), "premise_address")
