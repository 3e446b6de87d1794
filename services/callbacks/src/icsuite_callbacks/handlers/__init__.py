"""Application handlers: load, let the domain decide, write guarded, kick the outbox."""

from .intake import caller_identified, submit_request
from .profiles import ProfileNotFound, get_profile, list_profiles, put_profile, seed_profiles
from .support import ConcurrentChange, Deps, ItemNotFound
from .work import (
    agent_inbox,
    cancel,
    claim,
    claim_next,
    complete,
    fail,
    general_inbox,
    get_callback,
    release,
    start,
)

__all__ = ["ConcurrentChange", "Deps", "ItemNotFound", "agent_inbox", "caller_identified", "cancel", "claim",
           "claim_next", "complete", "fail", "general_inbox", "get_callback", "get_profile", "list_profiles",
           "ProfileNotFound", "put_profile", "release", "seed_profiles", "start", "submit_request"]
