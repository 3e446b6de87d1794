"""Alert rules: what triggers them, their condition, message and target; validated and compiled once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from icsuite_chassis.errors import InvalidError
from icsuite_contracts.registry import topic

from .expressions import CompiledExpression, CompileError, Position, Symbols, compile_expression
from .facts import FACT_TYPES
from .observations import ATTRIBUTES
from .templates import MessageTemplate, parse_template

Severity = Literal["info", "warning", "critical"]
Target = Literal["agent", "supervisors"]

CONSUMED_TOPICS = ("ic.contacts.v1", "ic.masterdata.v1", "ic.identity.v1", "ic.interactions.v1",
                   "ic.callbacks.v1", "ic.followups.v1")
MAX_TRIGGERS = 20
MAX_DEDUPE_WINDOW_S = 30 * 24 * 3600
MAX_ABSENCE_S = 30 * 24 * 3600


@lru_cache(maxsize=1)
def consumed_models() -> dict[str, type]:
    """Every event type the service consumes (and a rule may trigger on) and its data model."""
    return {model.ce_type: model for name in CONSUMED_TOPICS for model in topic(name).event_types}


def event_fields(triggers: tuple[str, ...]) -> frozenset[str]:
    """The names ``event.<name>`` may use: the data fields of any trigger type and the ce_* attributes."""
    models = consumed_models()
    fields = {name for t in triggers for name in models[t].model_fields}
    return frozenset(fields | set(ATTRIBUTES))


@dataclass(frozen=True)
class Absence:
    """``after``: raise ``within_s`` after the trigger unless an ``unless`` event of the same aggregate came first."""

    within_s: int
    unless: tuple[str, ...]


@dataclass(frozen=True)
class RuleSpec:
    name: str
    triggers: tuple[str, ...]
    condition: str
    severity: Severity
    message: str
    target: Target
    dedupe_window_s: int
    enabled: bool = True
    after: Absence | None = None


@dataclass(frozen=True)
class Rule:
    rule_id: str
    version: int
    spec: RuleSpec
    standard: bool = False


class RuleInvalid(InvalidError):
    """A rule that cannot be saved: which field, why, and where in the field's text (422 with those)."""

    def __init__(self, field: str, message: str, position: Position | None = None, kind: str = "invalid"):
        error = {"field": field, "error": message, "kind": kind,
                 "position": position.as_dict() if position else None}
        super().__init__(f"{field}: {message}", **error, errors=[error])
        self.field = field
        self.message = message
        self.position = position
        self.kind = kind


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    condition: CompiledExpression
    template: MessageTemplate


def check_triggers(triggers: tuple[str, ...]) -> None:
    if not triggers:
        raise RuleInvalid("triggers", "a rule needs at least one trigger event type", kind="no_triggers")
    if len(triggers) > MAX_TRIGGERS:
        raise RuleInvalid("triggers", f"a rule may have at most {MAX_TRIGGERS} trigger types", kind="too_many")
    unknown = [t for t in triggers if t not in consumed_models()]
    if unknown:
        raise RuleInvalid("triggers", f"unknown trigger event type(s): {', '.join(unknown)}; the service "
                          f"consumes the types of {', '.join(CONSUMED_TOPICS)}", kind="unknown_trigger")


def check_absence(after: Absence) -> None:
    if not 1 <= after.within_s <= MAX_ABSENCE_S:
        raise RuleInvalid("after.within_s", f"must be between 1 and {MAX_ABSENCE_S}", kind="out_of_range")
    if not 1 <= len(after.unless) <= MAX_TRIGGERS:
        raise RuleInvalid("after.unless", f"name 1 to {MAX_TRIGGERS} event types", kind="too_many")
    unknown = [t for t in after.unless if t not in consumed_models()]
    if unknown:
        raise RuleInvalid("after.unless", f"unknown event type(s): {', '.join(unknown)}", kind="unknown_trigger")


def compile_rule(rule: Rule) -> CompiledRule:
    """Validate and compile ``rule``; :class:`RuleInvalid` names the field, the error and its position."""
    spec = rule.spec
    if not spec.name.strip():
        raise RuleInvalid("name", "the name must not be empty", kind="empty")
    triggers = tuple(dict.fromkeys(spec.triggers))
    check_triggers(triggers)
    if not 0 <= spec.dedupe_window_s <= MAX_DEDUPE_WINDOW_S:
        raise RuleInvalid("dedupe_window_s", f"must be between 0 and {MAX_DEDUPE_WINDOW_S}", kind="out_of_range")
    if spec.after is not None:
        check_absence(spec.after)
    fields = event_fields(triggers)
    try:
        condition = compile_expression(spec.condition, Symbols(event_fields=fields, fact_types=FACT_TYPES))
    except CompileError as exc:
        raise RuleInvalid("condition", exc.message, exc.position, exc.kind) from None
    try:
        template = parse_template(spec.message, fact_names=set(FACT_TYPES), event_fields=fields)
    except CompileError as exc:
        raise RuleInvalid("message", exc.message, exc.position, exc.kind) from None
    return CompiledRule(rule, condition, template)


_CONTACT_TRIGGERS = ("ic.identity.contact-identified.v1", "ic.interaction.opened.v1")
_HOUR = 3600

STANDARD_RULES: tuple[Rule, ...] = tuple(
    Rule(rule_id, 1, RuleSpec(name, _CONTACT_TRIGGERS, condition, severity, message, "agent", _HOUR), True)
    for rule_id, name, condition, severity, message in (
        ("std-dunning-level", "Dunning level 2 or higher", "facts.dunning_level >= 2", "warning",
         "Dunning level {facts.dunning_level}: payments are overdue, check the open bills."),
        ("std-third-contact-7d", "Third contact within 7 days", "facts.contacts_last_7d >= 3", "warning",
         "{facts.contacts_last_7d} contacts within 7 days: the customer's concern may still be open."),
        ("std-open-callback", "An open callback exists", "facts.open_callbacks > 0", "info",
         "{facts.open_callbacks} open callback(s) for this account: settle them in this contact."),
        ("std-overdue-followup", "An overdue follow-up", "facts.overdue_followups > 0", "warning",
         "{facts.overdue_followups} overdue follow-up(s) for this account."),
        ("std-high-balance", "Balance above 500", "facts.balance > 500.0", "critical",
         "Open balance of {facts.balance}: offer a payment plan."),
    )
)
"""Seeded once per database; administrators may change or delete them like any rule."""

STANDARD_RULES = (*STANDARD_RULES, Rule("std-callback-unclaimed", 1, RuleSpec(
    "Callback unclaimed for 30 minutes", ("ic.callback.queued.v1",), "!has(event.scheduled_for)", "warning",
    "Callback {event.callback_id} has waited 30 minutes without an agent.", "supervisors", 0,
    after=Absence(1800, ("ic.callback.claimed.v1",))), True))
"""The service-level rule: a queued callback that nobody claimed within 30 minutes alerts the supervisors. The
30 minutes are wall minutes from when the callback became workable: a request outside its profile's business
hours is announced queued with ``scheduled_for`` (not workable yet), which starts no clock, and queued again
without it when the hours open."""

STANDARD_RULES = (*STANDARD_RULES, Rule("std-account-confirmed-reminder", 1, RuleSpec(
    "Reminder after the account was confirmed", ("ic.identity.contact-identified.v1",),
    "event.confirmed == true && has(event.account_id)", "info",
    "Account {event.account_id} confirmed: review its alerts, take scratch-pad notes and look at the "
    "interaction history.", "agent", _HOUR, after=Absence(30, ("ic.contact.ended.v1",))), True))
"""Seed 002, steps 11 to 13: 30 s after an agent confirmed the account, unless the contact ended meanwhile."""
