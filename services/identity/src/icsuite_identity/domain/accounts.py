"""Accounts (business partners) as the service keeps them, and the rules for creating one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from icsuite_chassis.store import Change, Stored

from .errors import DuplicateAccount, InvalidInput
from .keys import account_keys, names_in_key
from .normalize import normalize_email, normalize_name, phone_to_e164, try_normalize_email, try_phone_to_e164

CREATED_IN_SUITE_VERSION = -1
"""``source_version`` of an account created here: any replicated snapshot of it is newer."""


@dataclass(frozen=True)
class AccountRecord:
    """An account: replicated from the source system, or created here by an agent."""

    account_id: str
    kind: str
    name: str
    phones: tuple[str, ...] = ()
    phones_e164: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    address: Mapping[str, str] | None = None
    flags: tuple[str, ...] = ()
    status: str = "active"
    source_version: int = CREATED_IN_SUITE_VERSION
    created_by: str | None = None
    created_at: datetime | None = None
    retired_keys: tuple[str, ...] = ()
    """The lookup keys the last change took away (so a repeated indexing removes them again)."""

    def keys(self) -> list[str]:
        postcode = self.address.get("postcode") if self.address else None
        return account_keys(phones_e164=self.phones_e164, emails=self.emails, name=self.name, postcode=postcode)

    def key_labels(self) -> dict[str, str]:
        """The labels some keys carry: the folded name under ``names-in:<postcode>``."""
        postcode = self.address.get("postcode") if self.address else None
        if not postcode or not normalize_name(self.name):
            return {}
        return {names_in_key(postcode): normalize_name(self.name)}


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def account_from_snapshot(*, account_id: str, kind: str, name: str, phones: Iterable[str],
                          emails: Iterable[str], address: Mapping[str, str] | None, flags: Iterable[str],
                          status: str, source_version: int, default_region: str) -> AccountRecord:
    """A replicated snapshot; numbers and addresses that cannot be normalized are kept but not indexed."""
    raw_phones = tuple(phones)
    return AccountRecord(
        account_id=account_id, kind=kind, name=name, phones=raw_phones,
        phones_e164=_unique(try_phone_to_e164(p, default_region) for p in raw_phones),
        emails=_unique(try_normalize_email(e) for e in emails), address=address,
        flags=tuple(flags), status=status, source_version=source_version,
    )


def new_account(*, account_id: str, kind: str, name: str, phones: Iterable[str], emails: Iterable[str],
                address: Mapping[str, str] | None, default_region: str, created_by: str | None = None,
                created_at: datetime | None = None) -> AccountRecord:
    """An account an agent creates: every phone number and e-mail address must normalize."""
    if not normalize_name(name):
        raise InvalidInput("name", "the name must contain letters or digits")
    e164 = _unique(phone_to_e164(p, default_region) for p in phones)
    normalized_emails = _unique(normalize_email(e) for e in emails)
    return AccountRecord(account_id=account_id, kind=kind, name=name.strip(), phones=e164, phones_e164=e164,
                         emails=normalized_emails, address=address, created_by=created_by, created_at=created_at)


def decide_create(current: Stored[AccountRecord] | None, record: AccountRecord,
                  events: Iterable[object]) -> Change[AccountRecord]:
    """A new account is stored once under its fresh id."""
    if current is not None:
        raise DuplicateAccount([record.account_id], "the account id is taken")
    return Change(record, tuple(events))  # type: ignore[arg-type]


@dataclass(frozen=True)
class ExistingAccount:
    account_id: str
    name: str
    phones_e164: tuple[str, ...]
    emails: tuple[str, ...]


def duplicate_keys(record: AccountRecord) -> list[str]:
    """The keys under which two records count as the same customer (see :func:`find_duplicates`): each
    e-mail address, and each phone number together with the name. Creation claims one per key."""
    name = normalize_name(record.name)
    return sorted({f"email:{e}" for e in record.emails} | {f"phone-name:{p}:{name}" for p in record.phones_e164})


def _same_customer(new: AccountRecord, other: ExistingAccount, name: str) -> str | None:
    if set(new.emails) & set(other.emails):
        return "same e-mail address"
    if set(new.phones_e164) & set(other.phones_e164) and normalize_name(other.name) == name:
        return "same phone number and name"
    return None


def find_duplicates(new: AccountRecord, existing: Iterable[ExistingAccount]) -> tuple[list[str], str | None]:
    """The existing accounts that are probably the same customer (the same e-mail address, or the same
    phone number and the same name, case- and accent-insensitive), by id, and the first one's reason."""
    name = normalize_name(new.name)
    found: list[str] = []
    reason: str | None = None
    for other in sorted(existing, key=lambda a: a.account_id):
        why = _same_customer(new, other, name)
        if why is not None:
            found.append(other.account_id)
            reason = reason or why
    return found, reason


def find_duplicate(new: AccountRecord, existing: Iterable[ExistingAccount]) -> ExistingAccount | None:
    """The first existing account that is probably the same customer (see :func:`find_duplicates`)."""
    candidates = list(existing)
    ids, _ = find_duplicates(new, candidates)
    return next((a for a in candidates if ids and a.account_id == ids[0]), None)


@dataclass(frozen=True)
class CreationClaim:
    """One duplicate key of an account created here; ``account_id`` None once given back."""

    key: str
    account_id: str | None
    at: datetime


def decide_claim(current: Stored[CreationClaim] | None, key: str, account_id: str, now: datetime,
                 abandoned_by: str | None) -> Change[CreationClaim] | None:
    """Take ``key`` for ``account_id``: free, ours, or left by ``abandoned_by`` (a creation that died
    before storing its account); held by another account it is a duplicate of that account."""
    holder = current.state.account_id if current is not None else None
    if holder == account_id:
        return None
    if holder is not None and holder != abandoned_by:
        raise DuplicateAccount([holder], "a creation of the same customer (same e-mail address, or same "
                                         "phone number and name) is in progress or done")
    return Change(CreationClaim(key, account_id, now))


def decide_release(current: Stored[CreationClaim] | None, account_id: str) -> Change[CreationClaim] | None:
    """Give a key back after the creation failed (only if this creation holds it)."""
    if current is None or current.state.account_id != account_id:
        return None
    return Change(replace(current.state, account_id=None))
