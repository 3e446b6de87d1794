"""The compiled rules of this process, reloaded whenever the rules revision counter moves.

Every change to a rule moves a revision counter (``meta``, ``rules_revision``); each replica polls it (and
the replica that made the change reloads at once), so a new rule version takes effect without a restart.
"""

from __future__ import annotations

from icsuite_chassis.store import AggregateStore

from .domain.evaluation import RuleBook
from .domain.rule_records import Marker
from .repository import RuleQueries


class RuleCache:
    def __init__(self, rules: RuleQueries, meta: AggregateStore[Marker]):
        self._rules = rules
        self._meta = meta
        self.book = RuleBook([], revision=-1)

    async def refresh(self, *, force: bool = False) -> bool:
        stored = await self._meta.get("rules_revision")
        revision = stored.state.value if stored is not None else 0
        if not force and revision == self.book.revision:
            return False
        self.book = RuleBook([record.rule for record in await self._rules.all()], revision=revision)
        return True
