"""Normalization of what customers and source systems write: phone numbers, e-mail addresses, names,
postcodes and streets, so that equal things get equal keys."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

import phonenumbers

from .errors import InvalidInput

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_STREET_SUFFIX = re.compile(r"(str|str\.|strasse)$")


def phone_to_e164(raw: str, default_region: str = "DE") -> str:
    """``raw`` in E.164 (``+4930123456``); numbers without a country code are read in ``default_region``."""
    text = raw.strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidInput("phone", f"{raw!r} is not a phone number") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_possible_number(number) or not _E164.match(e164):
        raise InvalidInput("phone", f"{raw!r} is not a possible phone number")
    return e164


def try_phone_to_e164(raw: str, default_region: str = "DE") -> str | None:
    try:
        return phone_to_e164(raw, default_region)
    except InvalidInput:
        return None


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased; ``mailto:`` removed. Refuses what is not shaped like an address."""
    text = raw.strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.lower()
    if len(text) > 254 or not _EMAIL.match(text):
        raise InvalidInput("email", f"{raw!r} is not an e-mail address")
    return text


def try_normalize_email(raw: str) -> str | None:
    try:
        return normalize_email(raw)
    except InvalidInput:
        return None


def fold(text: str) -> str:
    """Case- and accent-insensitive form: ``Müller-Lüdenscheidt`` -> ``muller ludenscheidt``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", bare).strip()


def name_tokens(name: str) -> list[str]:
    """The distinct words of a folded name, in order."""
    seen: dict[str, None] = {}
    for token in fold(name).split():
        seen.setdefault(token, None)
    return list(seen)


def normalize_name(name: str) -> str:
    return " ".join(fold(name).split())


def normalize_postcode(postcode: str) -> str:
    return "".join(fold(postcode).split())


def normalize_street(street: str) -> str:
    """``Hauptstr. 5``, ``Hauptstraße 5`` and ``hauptstrasse  5`` all become ``hauptstrasse 5``."""
    words = fold(street.replace("ß", "ss")).split()
    return " ".join(_STREET_SUFFIX.sub("strasse", w) for w in words)


AddressKind = Literal["phone", "email"]


@dataclass(frozen=True)
class ContactAddress:
    """What a contact came from, normalized: a phone number or an e-mail address."""

    kind: AddressKind
    value: str


def classify_contact_address(raw: str, default_region: str = "DE") -> ContactAddress | None:
    """A caller number or sender address, normalized; ``None`` for a chat handle or anything else."""
    if "@" in raw:
        email = try_normalize_email(raw)
        return ContactAddress("email", email) if email else None
    if not any(c.isdigit() for c in raw):
        return None
    e164 = try_phone_to_e164(raw, default_region)
    return ContactAddress("phone", e164) if e164 else None
