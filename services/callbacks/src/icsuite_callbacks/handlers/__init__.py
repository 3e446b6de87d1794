"""Use cases of the callbacks service: load, let the domain decide, save through the aggregate store."""

from .core import CallbacksService, random_id, tick, transition
from .intake import callers_identified, followup_due, masterdata_changed, submit_request
from .work import (
    agent_inbox,
    cancel,
    claim,
    claim_next,
    complete,
    fail,
    general_inbox,
    get_callback,
    get_profile,
    list_profiles,
    put_profile,
    release,
    seed_profiles,
    start,
    with_surviving_candidates,
)

__all__ = ["CallbacksService", "agent_inbox", "callers_identified", "cancel", "claim", "claim_next", "complete",
           "fail", "followup_due", "general_inbox", "get_callback", "get_profile", "list_profiles",
           "masterdata_changed", "put_profile", "random_id", "release", "seed_profiles", "start", "submit_request",
           "tick", "transition", "with_surviving_candidates"]
