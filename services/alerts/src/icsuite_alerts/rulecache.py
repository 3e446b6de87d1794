"""The compiled rules of this process, reloaded whenever the rules revision counter moves.

Every change to a rule increments a revision counter in MongoDB; each replica polls it (and the replica
that made the change reloads at once), so a new rule version takes effect without a restart.
"""

from __future__ import annotations

from .domain.evaluation import RuleBook
from .repository import RuleRepository, rule_from_doc


class RuleCache:
    def __init__(self, rules: RuleRepository):
        self._rules = rules
        self.book = RuleBook([], revision=-1)

    async def refresh(self, *, force: bool = False) -> bool:
        revision = await self._rules.revision()
        if not force and revision == self.book.revision:
            return False
        docs = await self._rules.all()
        self.book = RuleBook([rule_from_doc(doc) for doc in docs], revision=revision)
        return True
