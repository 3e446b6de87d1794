"""The callbacks domain: pure and synchronous; time and ids are passed in, nothing is written here."""

from .errors import (
    CallbackNotFound, InvalidRequest, NotOwner, NotQualified, ProfileNotFound, TooManyOpenRequests, WrongState,
)
from .intake import CallbackRequest, CallerIdentity, IntakePolicy, check_request, new_work_item
from .model import CLOSED_STATUSES, OPEN_STATUSES, Actor, Routing, WorkItem, workable
from .profiles import DEFAULT_PROFILE, SEED_PROFILES, ReasonProfile, choose_profile
from .slots import NumberSlots, Slot

__all__ = [
    "CLOSED_STATUSES", "DEFAULT_PROFILE", "OPEN_STATUSES", "SEED_PROFILES", "Actor", "CallbackNotFound",
    "CallbackRequest", "CallerIdentity", "IntakePolicy", "InvalidRequest", "NotOwner", "NotQualified", "NumberSlots",
    "ProfileNotFound", "ReasonProfile", "Routing", "Slot", "TooManyOpenRequests", "WorkItem", "WrongState",
    "check_request", "choose_profile", "new_work_item", "workable",
]
