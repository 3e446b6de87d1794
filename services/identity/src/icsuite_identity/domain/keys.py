"""Lookup keys: every way an account, business agreement or premise is found.

Each key is the ``_id`` of a small lookup document listing the ids it leads to (an inverted index, read
by ``_id``). A reader checks that a record still has the key it was found by (the keys follow from the
record's fields and are not stored with it), so an entry left behind (between the record's write and the
lookup's update) is never answered.
"""

from __future__ import annotations

from collections.abc import Iterable

from .normalize import name_tokens, normalize_name, normalize_postcode, normalize_street


def phone_key(e164: str) -> str:
    return f"phone:{e164}"


def email_key(email: str) -> str:
    return f"email:{email}"


def name_token_key(postcode: str, token: str) -> str:
    return f"name:{normalize_postcode(postcode)}|{token}"


def full_name_key(postcode: str, name: str) -> str:
    return f"fullname:{normalize_postcode(postcode)}|{normalize_name(name)}"


def names_in_key(postcode: str) -> str:
    """Every account with an address in ``postcode``, labelled with its folded name (fuzzy name search)."""
    return f"names-in:{normalize_postcode(postcode)}"


def street_key(postcode: str, street: str) -> str:
    return f"street:{normalize_postcode(postcode)}|{normalize_street(street)}"


def premises_in_key(postcode: str) -> str:
    return f"premises-in:{normalize_postcode(postcode)}"


def premises_under_key(business_agreement_id: str) -> str:
    return f"premises-under:{business_agreement_id}"


def agreements_of_key(account_id: str) -> str:
    return f"agreements-of:{account_id}"


def premises_of_key(account_id: str) -> str:
    return f"premises-of:{account_id}"


def account_keys(*, phones_e164: Iterable[str], emails: Iterable[str], name: str,
                 postcode: str | None) -> list[str]:
    keys = [phone_key(p) for p in phones_e164] + [email_key(e) for e in emails]
    if postcode and normalize_name(name):
        keys.append(full_name_key(postcode, name))
        keys.append(names_in_key(postcode))
        keys.extend(name_token_key(postcode, token) for token in name_tokens(name))
    return sorted(set(keys))


def agreement_keys(account_id: str) -> list[str]:
    return [agreements_of_key(account_id)]


def premise_keys(*, postcode: str, street: str, account_ids: Iterable[str],
                 business_agreement_ids: Iterable[str] = ()) -> list[str]:
    keys = [street_key(postcode, street), premises_in_key(postcode)] + [premises_of_key(a) for a in account_ids]
    keys += [premises_under_key(b) for b in business_agreement_ids]
    return sorted(set(keys))
