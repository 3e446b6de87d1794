"""Reads: account search with ranking, lookup by phone or e-mail, the account summary."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .domain.keys import (
    agreements_of_key,
    email_key,
    full_name_key,
    name_token_key,
    phone_key,
    premises_of_key,
    street_key,
)
from .domain.normalize import ContactAddress, InvalidInput, name_tokens, normalize_email, phone_to_e164
from .domain.ranking import Candidate, SearchCriteria, rank, token_fraction
from .repository import Doc, Repositories

MAX_CANDIDATES = 1000


class Found:
    """Candidates collected across criteria, with the account documents they came from."""

    def __init__(self) -> None:
        self.candidates: dict[str, Candidate] = {}
        self.docs: dict[str, Doc] = {}

    def hit(self, doc: Doc, criterion: str, fraction: float = 1.0) -> None:
        account_id = doc["_id"]
        if account_id not in self.candidates and len(self.candidates) >= MAX_CANDIDATES:
            return
        candidate = self.candidates.setdefault(account_id, Candidate(account_id, doc.get("status") == "active"))
        candidate.add(criterion, fraction)
        self.docs[account_id] = doc

    def hit_all(self, docs: Iterable[Doc], criterion: str) -> None:
        for doc in docs:
            self.hit(doc, criterion)


class AccountQueries:
    def __init__(self, repos: Repositories, default_region: str):
        self.repos = repos
        self.default_region = default_region

    async def by_phone(self, e164: str) -> list[Doc]:
        return await self.repos.accounts.find_by_key(phone_key(e164))

    async def by_email(self, email: str) -> list[Doc]:
        return await self.repos.accounts.find_by_key(email_key(email))

    async def by_contact_address(self, address: ContactAddress) -> list[str]:
        """Account ids for a caller number or sender address, active accounts first."""
        docs = await (self.by_phone(address.value) if address.kind == "phone" else self.by_email(address.value))
        return [d["_id"] for d in sorted(docs, key=lambda d: (d.get("status") != "active", d["_id"]))]

    async def search(self, criteria: SearchCriteria) -> tuple[list[Candidate], dict[str, Doc]]:
        criteria.check()
        found = Found()
        if criteria.account_id:
            account = await self.repos.accounts.get(criteria.account_id)
            found.hit_all([account] if account else [], "account_id")
        if criteria.business_agreement_id:
            agreement = await self.repos.agreements.get(criteria.business_agreement_id)
            account = await self.repos.accounts.get(agreement["account_id"]) if agreement else None
            found.hit_all([account] if account else [], "business_agreement_id")
        if criteria.phone:
            found.hit_all(await self.by_phone(phone_to_e164(criteria.phone, self.default_region)), "phone")
        if criteria.email:
            found.hit_all(await self.by_email(normalize_email(criteria.email)), "email")
        if criteria.name and criteria.postcode:
            await self._by_name(found, criteria.name, criteria.postcode)
        if criteria.street and criteria.postcode:
            await self._by_premise_address(found, criteria.street, criteria.postcode)
        return rank(found.candidates.values()), found.docs

    async def _by_name(self, found: Found, name: str, postcode: str) -> None:
        tokens = name_tokens(name)
        if not tokens:
            raise InvalidInput("name", "the name must contain letters or digits")
        found.hit_all(await self.repos.accounts.find_by_key(full_name_key(postcode, name)), "name_exact")
        token_keys = [name_token_key(postcode, t) for t in tokens]
        ids_by_key = await self.repos.lookups.ids_of_each(token_keys)
        ids = list(dict.fromkeys(i for key in token_keys for i in ids_by_key[key]))[:MAX_CANDIDATES]
        docs = await self.repos.accounts.get_many(ids)
        for doc in docs.values():
            fraction = token_fraction(token_keys, doc.get("_keys", []))
            if fraction > 0:
                found.hit(doc, "name", fraction)

    async def _by_premise_address(self, found: Found, street: str, postcode: str) -> None:
        premises = await self.repos.premises.find_by_key(street_key(postcode, street))
        account_ids = list(dict.fromkeys(a for p in premises for a in p.get("account_ids", [])))
        accounts = await self.repos.accounts.get_many(account_ids[:MAX_CANDIDATES])
        found.hit_all(accounts.values(), "premise_address")

    async def summary(self, account_id: str) -> dict[str, Any] | None:
        account = await self.repos.accounts.get(account_id)
        if account is None:
            return None
        agreements = await self.repos.agreements.find_by_key(agreements_of_key(account_id))
        premises = await self.repos.premises.find_by_key(premises_of_key(account_id))
        return {"account": account, "business_agreements": sorted(agreements, key=lambda d: d["_id"]),
                "premises": sorted(premises, key=lambda d: d["_id"])}
