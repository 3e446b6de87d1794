"""Is a callback number a real number the center may call? Checked with ``phonenumbers``.

A number must parse, be valid for its country, and not be of a refused type (premium rate, shared cost
and satellite by default; the list is a setting). The refusal names why.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import phonenumbers
from phonenumbers import PhoneNumberType

from .errors import InvalidRequest

NUMBER_TYPES: dict[str, int] = {
    "fixed_line": PhoneNumberType.FIXED_LINE, "mobile": PhoneNumberType.MOBILE,
    "fixed_line_or_mobile": PhoneNumberType.FIXED_LINE_OR_MOBILE, "toll_free": PhoneNumberType.TOLL_FREE,
    "premium_rate": PhoneNumberType.PREMIUM_RATE, "shared_cost": PhoneNumberType.SHARED_COST,
    "voip": PhoneNumberType.VOIP, "personal_number": PhoneNumberType.PERSONAL_NUMBER,
    "pager": PhoneNumberType.PAGER, "uan": PhoneNumberType.UAN, "voicemail": PhoneNumberType.VOICEMAIL,
}
SATELLITE_COUNTRY_CODES = frozenset({870, 881})
"""Inmarsat and the global mobile satellite systems (Iridium, Globalstar, Thuraya): billed as satellite calls."""
E164_PATTERN = re.compile(r"\+[1-9]\d{6,14}")
DEFAULT_REFUSED = ("premium_rate", "shared_cost", "satellite")
KNOWN_TYPES = frozenset(NUMBER_TYPES) | {"satellite", "unknown"}


def number_kind(number: phonenumbers.PhoneNumber) -> str:
    if number.country_code in SATELLITE_COUNTRY_CODES:
        return "satellite"
    found = phonenumbers.number_type(number)
    return next((name for name, value in NUMBER_TYPES.items() if value == found), "unknown")


def check_callback_number(text: str, refused: Collection[str] = DEFAULT_REFUSED) -> None:
    """Raise :class:`InvalidRequest` naming why ``text`` is not a number to call back."""
    if not E164_PATTERN.fullmatch(text):
        raise InvalidRequest("callback_number must be a phone number in E.164 form, e.g. +4930123456",
                             reason="not-e164")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRequest(f"callback_number is not a phone number in E.164 form: {exc}",
                             reason="not-e164") from None
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_number(number) or f"+{number.country_code}"
        raise InvalidRequest(f"callback_number {text} is not a valid number for its country ({region})",
                             reason="invalid-number")
    kind = number_kind(number)
    if kind in refused:
        raise InvalidRequest(f"callback_number {text} is a {kind.replace('_', ' ')} number; the center does not "
                             f"call such numbers back", reason=f"refused-{kind.replace('_', '-')}")
