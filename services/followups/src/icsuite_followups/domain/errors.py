"""What the follow-up domain refuses, each with the facts a caller needs to explain the refusal."""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """A request the domain refuses; adapters map each kind to a problem response."""


class TypeNotPermitted(DomainError):
    """The customizing does not permit this follow-up type; ``rule`` names the rule that refused it."""

    def __init__(self, followup_type: str, rule: str, permitted: Sequence[str]):
        super().__init__(f"follow-up type {followup_type!r} is not permitted by {rule}")
        self.followup_type = followup_type
        self.rule = rule
        self.permitted = list(permitted)


class InvalidSchedule(DomainError):
    """Dates that contradict each other (an end before its start)."""


class InvalidLanguage(DomainError):
    """A language tag that is not a valid BCP 47 tag."""

    def __init__(self, tag: str):
        super().__init__(f"{tag!r} is not a valid BCP 47 language tag")
        self.tag = tag


class InvalidTransition(DomainError):
    """A status change the follow-up's life cycle does not allow."""

    def __init__(self, current: str, requested: str, allowed: Sequence[str]):
        super().__init__(f"a follow-up in status {current!r} cannot move to {requested!r}")
        self.current = current
        self.requested = requested
        self.allowed = list(allowed)


class FollowupFinished(DomainError):
    """A completed or cancelled follow-up keeps its fields; only notes may still be appended."""

    def __init__(self, status: str):
        super().__init__(f"the follow-up is {status}; its fields can no longer change")
        self.status = status


class NotesHistoryFull(DomainError):
    """The notes history reached its maximum length."""

    def __init__(self, limit: int):
        super().__init__(f"the notes history holds at most {limit} notes")
        self.limit = limit
