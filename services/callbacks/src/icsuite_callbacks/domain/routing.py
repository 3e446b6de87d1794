"""Who can serve a work item: the profile's skill and language against the agent's token claims.

The one statement of the rule is :func:`servable_by`, a condition on the item's stored fields (as
:func:`.model.workable` is): the store uses it as a filter of claim-next and of an agent's general inbox, and
the claim decision evaluates the same condition on the item it is about to claim (:func:`check_can_serve`).

- An item whose routing names a ``skill`` needs an agent whose ``skills`` claim lists it (exactly).
- An item whose routing names an ``agent_language`` needs an agent whose ``languages`` claim has a tag of the
  same primary language (``de-AT`` speaks ``de``; compared without case).
- An agent whose token has no ``skills`` (or ``languages``) claim has none: such an agent is offered only
  items that need no skill (no language). Identity providers that send no skills must not hand every
  restricted item to everyone.
- Supervisors and administrators are not restricted: they may take any item, as they may act on any.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from .errors import NotQualified
from .model import Actor, WorkItem, holds


def language_code(tag: str) -> str:
    """The primary language of a BCP 47 tag, lower case: what routing compares (``de-AT`` -> ``de``)."""
    return tag.split("-", 1)[0].strip().lower()


def servable_by(actor: Actor) -> dict[str, Any]:
    """The items ``actor`` can serve, as a condition on the item's fields (empty: every item).

    Plain ``$in`` conditions (``None``: the item needs none, also when the field is missing), so that claim-next
    can ask the database for them with the queue's equality (its ``narrow``): the candidates read are then
    only items the caller can serve, and an agent without a needed skill never reads the items that need it."""
    if actor.supervisor:
        return {}
    skills = sorted(actor.skills)
    languages = sorted({language_code(tag) for tag in actor.languages})
    return {"skill": {"$in": [None, *skills]}, "agent_language": {"$in": [None, *languages]}}


def qualifications(actor: Actor) -> Hashable:
    """What :func:`servable_by` depends on: actors with equal qualifications select the same items (claim-next
    callers share a read only then)."""
    if actor.supervisor:
        return "any"
    return frozenset(actor.skills), frozenset(language_code(tag) for tag in actor.languages)


def can_serve(actor: Actor, item: WorkItem) -> bool:
    return holds(item, servable_by(actor))


def check_can_serve(actor: Actor, item: WorkItem) -> None:
    """Refuse (403) a claim of an item the actor cannot serve, naming what it needs."""
    if can_serve(actor, item):
        return
    routing = item.routing
    if routing.skill is not None and routing.skill not in actor.skills:
        raise NotQualified(f"callback {item.callback_id} needs the skill {routing.skill!r}, which your token "
                           "does not list", reason="skill-required", skill=routing.skill)
    raise NotQualified(f"callback {item.callback_id} needs an agent who speaks {routing.agent_language!r}, "
                       "which your token does not list", reason="language-required",
                       language=routing.agent_language)
