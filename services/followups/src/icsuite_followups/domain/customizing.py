"""The customizing: which follow-up types each channel and source type permits, and the copying control.

Both are plain values; the service stores them, seeds the defaults below at first start and lets an
admin replace them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from .errors import CustomizingChanged, TypeNotPermitted

R = TypeVar("R")

CHANNELS = ("phone", "email", "chat", "web", "sms", "fax", "walk_in", "letter")
SOURCE_TYPES = ("interaction", "service_ticket", "service_order", "complaint", "case")
FOLLOWUP_TYPES = ("phone_call", "email", "visit", "task", "service_order", "sales_order", "complaint")
COPYABLE_FIELDS = ("account_id", "business_agreement_id", "premise_id", "reason_code")
DISPLAY_AREAS = {
    "interaction": "activity_clipboard",
    "service_ticket": "business_context",
    "service_order": "business_context",
    "complaint": "business_context",
    "case": "linked_objects",
}


def display_area(source_type: str) -> str:
    """Where the agent's desktop shows a follow-up, decided by the type of its source."""
    return DISPLAY_AREAS[source_type]


@dataclass(frozen=True)
class FollowupTypeRules:
    """Permitted follow-up types per channel and per source type; a type must pass both.

    A channel or source type that is not listed permits nothing.
    """

    channels: Mapping[str, tuple[str, ...]]
    source_types: Mapping[str, tuple[str, ...]]

    def check(self, *, channel: str, source_type: str, followup_type: str) -> None:
        """Raise TypeNotPermitted naming the first rule that refuses ``followup_type``."""
        for rule, permitted in ((f"followup-types[channel={channel}]", self.channels.get(channel, ())),
                                (f"followup-types[source_type={source_type}]",
                                 self.source_types.get(source_type, ()))):
            if followup_type not in permitted:
                raise TypeNotPermitted(followup_type, rule, permitted)

    def permitted(self, *, channel: str, source_type: str) -> list[str]:
        by_source = set(self.source_types.get(source_type, ()))
        return [t for t in self.channels.get(channel, ()) if t in by_source]


@dataclass(frozen=True)
class CopyRule:
    """What is copied from a source into a new follow-up: fields and the notes of chosen types."""

    fields: tuple[str, ...] = ()
    note_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class CopyRules:
    """The copying control per source type; a source type that is not listed copies nothing."""

    source_types: Mapping[str, CopyRule] = field(default_factory=dict)

    def for_source(self, source_type: str) -> CopyRule:
        return self.source_types.get(source_type, CopyRule())


_ACTIVITIES = ("phone_call", "email", "visit", "task")
_EVERY_TYPE = FOLLOWUP_TYPES
DEFAULT_FOLLOWUP_TYPES = FollowupTypeRules(
    channels={
        "phone": _EVERY_TYPE,
        "email": _EVERY_TYPE,
        "chat": _EVERY_TYPE,
        "web": _EVERY_TYPE,
        "walk_in": _EVERY_TYPE,
        "letter": _EVERY_TYPE,
        "sms": ("phone_call", "email", "task"),
        "fax": ("phone_call", "email", "task"),
    },
    source_types={
        "interaction": _EVERY_TYPE,
        "service_ticket": (*_ACTIVITIES, "service_order"),
        "service_order": (*_ACTIVITIES, "sales_order"),
        "complaint": (*_ACTIVITIES, "service_order"),
        "case": (*_ACTIVITIES, "service_order", "complaint"),
    },
)
_DEFAULT_RULE = CopyRule(fields=("account_id", "business_agreement_id", "reason_code"), note_types=("note",))
DEFAULT_COPY_RULES = CopyRules(source_types={
    "interaction": _DEFAULT_RULE,
    "service_ticket": _DEFAULT_RULE,
    "service_order": _DEFAULT_RULE,
    "complaint": _DEFAULT_RULE,
    "case": CopyRule(fields=("account_id", "business_agreement_id", "reason_code"), note_types=()),
})


@dataclass(frozen=True)
class Configured(Generic[R]):
    """A stored customizing value with its version and who last changed it."""

    rules: R
    version: int
    updated_at: datetime
    updated_by: str


def decide_seed_config(current: Configured[R] | None, defaults: R, *, now: datetime) -> Configured[R] | None:
    """The defaults at first start; never over a value that is stored."""
    return Configured(defaults, 1, now, "seed") if current is None else None


def decide_replace_config(current: Configured[R] | None, rules: R, *, name: str, by: str, now: datetime,
                          expected_version: int | None) -> Configured[R]:
    """The new value; refused when ``expected_version`` is given and is not the stored one."""
    if expected_version is not None and (current is None or current.version != expected_version):
        raise CustomizingChanged(name)
    return Configured(rules, (current.version if current else 0) + 1, now, by)
