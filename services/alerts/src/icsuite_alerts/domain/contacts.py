"""Per-contact projection: which account and which agent a contact belongs to, as far as events tell."""

from __future__ import annotations

from dataclasses import dataclass, replace
from collections.abc import Mapping
from typing import Any

from .observations import Observation

# How much an account source is trusted: a confirmed identification beats an automatic one, which beats a hint.
_HINT, _LINKED, _CONFIRMED = 1, 2, 3


@dataclass(frozen=True)
class ContactState:
    account_id: str | None = None
    account_rank: int = 0
    agent_id: str | None = None
    agent_event_id: str | None = None  # the event that named the current agent

    def to_doc(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "account_rank": self.account_rank, "agent_id": self.agent_id,
                "agent_event_id": self.agent_event_id}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> ContactState:
        if not doc:
            return cls()
        return cls(doc.get("account_id"), int(doc.get("account_rank") or 0), doc.get("agent_id"),
                   doc.get("agent_event_id"))

    def agent_named_by(self, event_id: str) -> bool:
        """``event_id`` is the event that made the current agent known."""
        return self.agent_id is not None and self.agent_event_id == event_id


def _account_claim(obs: Observation) -> tuple[str | None, int]:
    data = obs.data
    if obs.type == "ic.contact.started.v1":
        return data.get("account_hint"), _HINT
    if obs.type == "ic.identity.contact-identified.v1":
        return data.get("account_id"), _CONFIRMED if data.get("confirmed") else _LINKED
    if obs.type in ("ic.interaction.opened.v1", "ic.interaction.account-linked.v1"):
        return data.get("account_id"), _LINKED
    return None, 0


def _agent_claim(obs: Observation) -> str | None:
    if obs.type == "ic.contact.segment.v1":
        return obs.agent_id if obs.data.get("kind") == "agent" else None
    if obs.type in ("ic.identity.contact-identified.v1", "ic.interaction.opened.v1"):
        return obs.agent_id
    return None


def agent_claimed(obs: Observation) -> bool:
    """The event names the contact's agent (an agent segment, an identification or opening with an agent)."""
    return _agent_claim(obs) is not None


def names_agent(obs: Observation, contact: ContactState, again: bool) -> bool:
    """The event names the contact's agent after it (or, redelivered, may have stopped short of giving the
    agent its waiting alerts)."""
    return obs.contact_id is not None and contact.agent_id is not None and agent_claimed(obs) and (
        again or contact.agent_named_by(obs.event_id))


def apply_to_contact(state: ContactState, obs: Observation) -> ContactState | None:
    """The contact's new state after ``obs``, or None when ``obs`` changes nothing about it."""
    if obs.contact_id is None:
        return None
    account, rank = _account_claim(obs)
    agent = _agent_claim(obs)
    new = state
    if account and rank >= new.account_rank:
        new = replace(new, account_id=account, account_rank=rank)
    if agent and agent != new.agent_id:
        new = replace(new, agent_id=agent, agent_event_id=obs.event_id)
    return None if new == state else new


def resolve(obs: Observation, contact: ContactState) -> tuple[str | None, str | None]:
    """The account and the agent an observation concerns: from the event, else from its contact."""
    account = obs.account_id or contact.account_id
    agent = obs.agent_id or contact.agent_id
    return account, agent
