"""What the record's rules refuse, as the chassis's kinds of domain error (mapped to problems in one table)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from icsuite_chassis.errors import ConflictError, ForbiddenError, InvalidError, LimitReachedError, NotFoundError


class InteractionNotFound(NotFoundError):
    def __init__(self, interaction_id: str):
        super().__init__(f"no interaction {interaction_id}", code="interaction-not-found")


class PartNotFound(NotFoundError):
    def __init__(self, what: str, part_id: str):
        super().__init__(f"no {what} {part_id} on this interaction", code=f"{what}-not-found")


class InteractionClosed(ConflictError):
    def __init__(self, interaction_id: str):
        super().__init__(f"interaction {interaction_id} is closed and read-only", code="interaction-closed")


class NotAnAgentOfTheRecord(ForbiddenError):
    def __init__(self, interaction_id: str, agent_id: str):
        super().__init__(f"{agent_id} is not an agent of interaction {interaction_id}; only its agents or a "
                         "supervisor may change it", code="not-an-agent-of-the-record")


class CapReached(LimitReachedError):
    """A record holds as many notes (activities, attachments...) as it may."""

    def __init__(self, what: str, limit: int, **extensions: Any):
        super().__init__(f"this interaction already holds the most {what} it may ({limit})",
                         code=f"too-many-{what.replace(' ', '-')}", limit=limit, **extensions)


class UnknownMediaItem(InvalidError):
    def __init__(self, media_item_id: str):
        super().__init__(f"the interaction has no media item {media_item_id}", code="unknown-media-item")


class CompletionBlocked(ConflictError):
    """A bulk completion cannot happen; ``blocking`` names every record in the way and why."""

    def __init__(self, blocking: Sequence[dict[str, str]], completed: Sequence[str] = ()):
        named = ", ".join(f"{b['interaction_id']} ({b['reason']})" for b in blocking)
        extensions: dict[str, Any] = {"blocking": list(blocking), "code": "completion-blocked"}
        if completed:
            extensions["completed"] = list(completed)
        super().__init__(f"no record was completed; blocking: {named}" if not completed else
                         f"records changed while they were completed: {named}", **extensions)
