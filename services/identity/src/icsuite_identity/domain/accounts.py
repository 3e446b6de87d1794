"""Accounts (business partners) as the service keeps them, and the rules for creating one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .keys import account_keys
from .normalize import InvalidInput, normalize_email, normalize_name, phone_to_e164, try_normalize_email, try_phone_to_e164

CREATED_IN_SUITE_VERSION = -1
"""``source_version`` of an account created here: any replicated snapshot of it is newer."""


@dataclass(frozen=True)
class AccountRecord:
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
    extra: Mapping[str, Any] = field(default_factory=dict)

    def keys(self) -> list[str]:
        postcode = self.address.get("postcode") if self.address else None
        return account_keys(phones_e164=self.phones_e164, emails=self.emails, name=self.name, postcode=postcode)


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
                address: Mapping[str, str] | None, default_region: str) -> AccountRecord:
    """An account an agent creates: every phone number and e-mail address must normalize."""
    if not normalize_name(name):
        raise InvalidInput("name", "the name must contain letters or digits")
    e164 = _unique(phone_to_e164(p, default_region) for p in phones)
    normalized_emails = _unique(normalize_email(e) for e in emails)
    return AccountRecord(account_id=account_id, kind=kind, name=name.strip(), phones=e164, phones_e164=e164,
                         emails=normalized_emails, address=address)


@dataclass(frozen=True)
class ExistingAccount:
    account_id: str
    name: str
    phones_e164: tuple[str, ...]
    emails: tuple[str, ...]


def duplicate_keys(record: AccountRecord) -> list[str]:
    """The keys under which two records count as the same customer (see :func:`find_duplicate`): each
    e-mail address, and each phone number together with the name. Creation claims one per key."""
    name = normalize_name(record.name)
    return sorted({f"email:{e}" for e in record.emails} | {f"phone-name:{p}:{name}" for p in record.phones_e164})


def find_duplicate(new: AccountRecord, existing: Iterable[ExistingAccount]) -> ExistingAccount | None:
    """The first existing account that is probably the same customer: the same e-mail address, or the
    same phone number and the same name (case- and accent-insensitive)."""
    name = normalize_name(new.name)
    for other in sorted(existing, key=lambda a: a.account_id):
        if set(new.emails) & set(other.emails):
            return other
        if set(new.phones_e164) & set(other.phones_e164) and normalize_name(other.name) == name:
            return other
    return None
