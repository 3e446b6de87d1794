"""The compiled rules of this process, reloaded whenever the rules revision counter moves.

Every change to a rule moves a revision counter (``meta``, ``rules_revision``); each replica polls it (and
the replica that made the change reloads at once), so a new rule version takes effect without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from icsuite_chassis.logging import get_logger
from icsuite_chassis.store import AggregateStore
from prometheus_client import Counter

from .domain.evaluation import RuleBook, RuleFailure
from .domain.rule_records import Marker
from .repository import RuleQueries


RULE_ERRORS = Counter("ic_alert_rule_errors_total",
                      "Rule evaluations that failed (over the evaluation budget, out of memory), by rule",
                      ["rule_id", "kind"])
_log = get_logger(__name__)


@dataclass(frozen=True)
class RuleHealth:
    """The last failed evaluation of a rule in this process, and how many failed since it started."""

    kind: str
    message: str
    rule_version: int
    event_id: str
    at: datetime
    count: int


class RuleCache:
    def __init__(self, rules: RuleQueries, meta: AggregateStore[Marker]):
        self._rules = rules
        self._meta = meta
        self.book = RuleBook([], revision=-1)
        self.failures: dict[str, RuleHealth] = {}

    def report(self, failures: list[RuleFailure], now: datetime) -> None:
        """A rule error: counted, logged (the first of each rule version), and kept as the rule's health."""
        for failure in failures:
            RULE_ERRORS.labels(failure.rule_id, failure.kind).inc()
            before = self.failures.get(failure.rule_id)
            if before is None or before.rule_version != failure.rule_version:
                _log.warning("rule failed; it matches nothing while it fails", rule_id=failure.rule_id,
                             rule_version=failure.rule_version, event_id=failure.event_id, kind=failure.kind,
                             error=failure.message)
            count = (before.count if before is not None else 0) + 1
            self.failures[failure.rule_id] = RuleHealth(failure.kind, failure.message, failure.rule_version,
                                                        failure.event_id, now, count)

    async def refresh(self, *, force: bool = False) -> bool:
        stored = await self._meta.get("rules_revision")
        revision = stored.state.value if stored is not None else 0
        if not force and revision == self.book.revision:
            return False
        self.book = RuleBook([record.rule for record in await self._rules.all()], revision=revision)
        return True
