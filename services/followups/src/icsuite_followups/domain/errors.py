"""What the follow-up domain refuses, each a kind of the chassis's domain errors (mapped to problems once there).

``code`` names the refusal for a client that wants more than the problem's kind.
"""

from __future__ import annotations

from collections.abc import Sequence

from icsuite_chassis.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    LimitReachedError,
    NotFoundError,
)


class FollowupNotFound(NotFoundError):
    def __init__(self, followup_id: str):
        super().__init__(f"no follow-up {followup_id!r}")


class NoteNotFound(NotFoundError):
    def __init__(self, followup_id: str, note_id: str):
        super().__init__(f"follow-up {followup_id!r} has no note {note_id!r}")


class CustomizingNotStored(NotFoundError):
    def __init__(self, name: str):
        super().__init__(f"the customizing {name!r} is not stored yet")


class TypeNotPermitted(InvalidError):
    """The customizing does not permit this follow-up type; ``rule`` names the rule that refused it."""

    def __init__(self, followup_type: str, rule: str, permitted: Sequence[str]):
        super().__init__(f"follow-up type {followup_type!r} is not permitted by {rule}",
                         code="followup-type-not-permitted", rule=rule, permitted=list(permitted),
                         followup_type=followup_type)
        self.rule = rule
        self.permitted = list(permitted)


class InvalidSchedule(InvalidError):
    """Dates that contradict each other (an end before its start)."""

    def __init__(self, detail: str):
        super().__init__(detail, code="invalid-schedule")


class InvalidLanguage(InvalidError):
    """A language tag that is not a valid BCP 47 tag."""

    def __init__(self, tag: str):
        super().__init__(f"{tag!r} is not a valid BCP 47 language tag", code="invalid-language", language=tag)
        self.tag = tag


class InvalidNote(InvalidError):
    def __init__(self, detail: str):
        super().__init__(detail, code="invalid-note")


class InvalidChange(InvalidError):
    """Fields a PATCH cannot change, or a value one cannot take."""

    def __init__(self, detail: str):
        super().__init__(detail, code="validation-error")


class InvalidTransition(ConflictError):
    """A status change the follow-up's life cycle does not allow."""

    def __init__(self, current: str, requested: str, allowed: Sequence[str]):
        super().__init__(f"a follow-up in status {current!r} cannot move to {requested!r}",
                         code="invalid-status-transition", status_now=current, requested=requested,
                         allowed=list(allowed))
        self.allowed = list(allowed)


class FollowupFinished(ConflictError):
    """A completed or cancelled follow-up keeps its fields; only notes may still be appended."""

    def __init__(self, status: str):
        super().__init__(f"the follow-up is {status}; its fields can no longer change", code="followup-finished")


class NotesHistoryFull(LimitReachedError):
    """The notes history reached its maximum length."""

    def __init__(self, limit: int):
        super().__init__(f"the notes history holds at most {limit} notes", code="notes-history-full", limit=limit)


class CustomizingChanged(ConflictError):
    """The customizing is not at the version the writer read."""

    def __init__(self, name: str):
        super().__init__(f"the customizing {name!r} changed meanwhile; read it again", code="version-mismatch")


class NotOwner(ForbiddenError):
    """Only the owner of a follow-up, or a supervisor, changes it."""

    def __init__(self, followup_id: str):
        super().__init__(f"only the owner of follow-up {followup_id!r} or a supervisor may change it",
                         code="not-owner")
