"""The callbacks domain: pure and synchronous; time and ids are passed in, nothing is written here."""

from .intake import CallbackRequest, CallerIdentity, IntakePolicy, check_request, new_work_item
from .model import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Actor,
    CallbackError,
    InvalidRequest,
    NotOwner,
    PendingClaim,
    Routing,
    TooManyOpenRequests,
    WorkItem,
    WrongState,
)
from .profiles import DEFAULT_PROFILE, SEED_PROFILES, ReasonProfile, choose_profile

__all__ = [
    "CLOSED_STATUSES", "DEFAULT_PROFILE", "OPEN_STATUSES", "SEED_PROFILES", "Actor", "CallbackError",
    "CallbackRequest", "CallerIdentity", "IntakePolicy", "InvalidRequest", "NotOwner", "PendingClaim",
    "ReasonProfile", "Routing", "TooManyOpenRequests", "WorkItem", "WrongState", "check_request",
    "choose_profile", "new_work_item",
]
