"""The base of every event data model and the field types the events share.

Producer side: every model is frozen and refuses unknown fields (``extra="forbid"``).
Consumer side: :func:`icsuite_contracts.cloudevents.from_kafka` validates with ``extra="ignore"``,
so a newer producer that adds an optional field never breaks an older consumer.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)

__all__ = [
    "E164",
    "INT64_MAX",
    "MAX_LIST_ITEMS",
    "MAX_YEAR",
    "MIN_YEAR",
    "CalendarDate",
    "Count",
    "MAX_MAP_ENTRIES",
    "Code",
    "ContactChannel",
    "CountryCode",
    "CurrencyCode",
    "Direction",
    "EmailText",
    "Event",
    "Id",
    "InteractionChannel",
    "LanguageTag",
    "Money",
    "NoteText",
    "PhoneText",
    "ShortText",
    "Text",
    "Timestamp",
    "Value",
    "check_year",
]

MAX_LIST_ITEMS = 100
"""Upper bound for the lists an event carries (phones, candidates, ids...)."""
MAX_MAP_ENTRIES = 50
"""Upper bound for string maps (``attributes``, ``details``)."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""An identifier: a non-empty string of at most 128 characters."""
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
"""A short machine-readable value: reason codes, outcomes, statuses, kinds, queue names."""
ShortText = Annotated[str, StringConstraints(max_length=256)]
"""A human-readable label: names, street, city."""
Text = Annotated[str, StringConstraints(max_length=4096)]
"""A human-readable message or reason."""
NoteText = Annotated[str, StringConstraints(max_length=32768)]
"""The text of a note (32 KiB at most)."""
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]
"""A phone number in E.164 form, e.g. ``+4930123456``."""
PhoneText = Annotated[str, StringConstraints(min_length=1, max_length=32)]
"""A phone number as a source system holds it (not necessarily E.164)."""
EmailText = Annotated[str, StringConstraints(min_length=3, max_length=254)]
"""An e-mail address as a source system holds it."""
LanguageTag = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", max_length=35)
]
"""A BCP 47 language tag such as ``en`` or ``de-AT``."""
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""An ISO 3166-1 alpha-2 country code."""
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 currency code."""
INT64_MAX = 2**63 - 1
"""The largest integer an event carries: what MongoDB, Kafka clients and every JSON reader can hold."""
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
"""A non-negative integer that fits a signed 64-bit integer (versions, priorities)."""
MIN_YEAR = 1900
MAX_YEAR = 2199
"""Times and dates of the suite lie in these years; anything else is a typing error or an attack
(year 1 or 9999 overflow as soon as an offset or a duration is applied)."""


def check_year(value: date) -> date:
    """``value`` unchanged if its year lies within ``MIN_YEAR``..``MAX_YEAR``; ``ValueError`` otherwise."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must lie between {MIN_YEAR} and {MAX_YEAR}")
    return value


def _check_time(value: datetime) -> datetime:
    check_year(value)
    return value


_YEARS = f"Years {MIN_YEAR} to {MAX_YEAR}."
Timestamp = Annotated[AwareDatetime, AfterValidator(_check_time),
                      Field(json_schema_extra={"x-year-range": [MIN_YEAR, MAX_YEAR]})]
"""A point in time with its UTC offset (RFC 3339 on the wire), in the years ``MIN_YEAR``..``MAX_YEAR``."""
CalendarDate = Annotated[date, AfterValidator(check_year),
                         Field(json_schema_extra={"x-year-range": [MIN_YEAR, MAX_YEAR]})]
"""A calendar date (``2025-03-15``) in the years ``MIN_YEAR``..``MAX_YEAR``."""


def _decimal_to_number(value: Decimal) -> float:
    """JSON number for a money amount; exact because :data:`Money` allows 15 digits at most."""
    return float(value)


Money = Annotated[
    Decimal,
    Field(max_digits=15, decimal_places=4, allow_inf_nan=False),
    PlainSerializer(_decimal_to_number, return_type=float, when_used="json"),
]
"""An amount of money: read from a JSON number or string, written as a JSON number."""

ContactChannel = Literal["phone", "email", "chat", "web", "sms", "fax", "walk_in"]
"""The channels a contact arrives on, as reported by the CTI and web channels."""
InteractionChannel = Literal["phone", "email", "chat", "web", "sms", "fax", "walk_in", "letter"]
"""The channels of an interaction record or follow-up: the contact channels plus ``letter``."""
Direction = Literal["inbound", "outbound"]


class Value(BaseModel):
    """A value object nested inside an event (an address, a bill, a reference)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(BaseModel):
    """The data of one event: the JSON body of a CloudEvent.

    Subclasses set ``ce_type`` (the versioned CloudEvents type), ``topic`` (the Kafka topic) and
    ``key_field`` (the field whose value is the Kafka key). Events whose key is not a single field
    override :meth:`key`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ce_type: ClassVar[str]
    topic: ClassVar[str]
    key_field: ClassVar[str]

    def key(self) -> str:
        """The Kafka key: the id of the aggregate this event belongs to."""
        return str(getattr(self, self.key_field))
