"""Reason profiles: read by everyone who works callbacks, written by admins."""

from __future__ import annotations

from ..domain import SEED_PROFILES, ReasonProfile
from .support import Deps, ItemNotFound


class ProfileNotFound(ItemNotFound):
    """No reason profile with this code."""


async def get_profile(deps: Deps, reason_code: str) -> ReasonProfile:
    profile = await deps.profiles.get(reason_code)
    if profile is None:
        raise ProfileNotFound(f"no reason profile {reason_code!r}; callbacks with this reason are routed "
                              "by the default profile")
    return profile


async def list_profiles(deps: Deps) -> list[ReasonProfile]:
    return await deps.profiles.all()


async def put_profile(deps: Deps, profile: ReasonProfile) -> bool:
    """Store the profile (new items are routed by it); True when it was created."""
    return await deps.profiles.put(profile)


async def seed_profiles(deps: Deps) -> None:
    await deps.profiles.seed(SEED_PROFILES)
