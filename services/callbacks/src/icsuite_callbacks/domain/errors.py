"""The refusals the callbacks domain decides, as the chassis's kinds of domain error (one problem table)."""

from __future__ import annotations

from icsuite_chassis.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError, RateLimitedError


class InvalidRequest(InvalidError):
    """The request breaks a business rule (number, window, time zone): 422."""


class TooManyOpenRequests(RateLimitedError):
    """The callback number already has the maximum number of open requests: 429."""


class NotOwner(ForbiddenError):
    """The actor may not act on an item owned by someone else: 403."""


class NotQualified(ForbiddenError):
    """The agent lacks the skill or language the item's routing needs: 403 (``reason`` says which)."""


class WrongState(ConflictError):
    """The item is not in a state that allows the action: 409."""


class CallbackNotFound(NotFoundError):
    """No callback with this id: 404."""


class ProfileNotFound(NotFoundError):
    """No reason profile with this code: 404."""
