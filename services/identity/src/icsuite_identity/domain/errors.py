"""The identity domain's refusals, as kinds of the chassis's domain errors (one table maps them to problems)."""

from __future__ import annotations

from collections.abc import Sequence

from icsuite_chassis.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError


class InvalidInput(InvalidError):
    """A value that cannot be normalized; ``field`` names what was wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field=field)
        self.field = field
        self.message = message


class CriteriaError(InvalidError):
    """The search request names no usable criterion."""

    def __init__(self, message: str, criteria: Sequence[str]):
        super().__init__(f"{message}; the criteria are: {', '.join(criteria)}", criteria=list(criteria))


class UnknownReference(InvalidError):
    """A request names an account, business agreement or premise that does not exist."""

    def __init__(self, field: str, value: str):
        super().__init__(f"{field} {value!r} does not exist", field=field)
        self.field = field
        self.value = value


class Mismatch(InvalidError):
    """The objects to confirm do not belong together; ``field`` names the one that does not fit."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field=field)
        self.field = field
        self.message = message


class DuplicateAccount(ConflictError):
    """A probable duplicate of an existing account; ``duplicates`` names them, the likeliest first."""

    def __init__(self, duplicates: Sequence[str], reason: str):
        super().__init__(f"a probable duplicate of account {duplicates[0]} ({reason})",
                         account_id=duplicates[0], duplicates=list(duplicates), reason=reason)
        self.account_id = duplicates[0]
        self.duplicates = list(duplicates)
        self.reason = reason


class AmbiguousAccount(ConflictError):
    """A premise or business agreement confirmed without an account is held by several accounts."""

    def __init__(self, field: str, value: str, candidates: Sequence[str]):
        super().__init__(f"{field} {value!r} belongs to {len(candidates)} accounts, not one; name one as account_id",
                         field=field, candidates=list(candidates))
        self.candidates = list(candidates)


class ContactNotReported(NotFoundError):
    """No channel reported the contact, so it has no business object context."""

    def __init__(self, contact_id: str):
        super().__init__(f"no channel reported contact {contact_id}")


class NotTheContactsAgent(ForbiddenError):
    """Only the agent handling the contact, or a supervisor, may set its context."""

    def __init__(self, contact_id: str, agent_id: str):
        super().__init__(f"agent {agent_id} does not handle contact {contact_id}; only its agent or a "
                         f"supervisor may set its context")


class AccountNotFound(NotFoundError):
    """The account does not exist."""

    def __init__(self, account_id: str):
        super().__init__(f"account {account_id} does not exist")
