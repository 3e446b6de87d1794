"""How a work item and a reason profile are stored: one MongoDB document each, flat fields for queries."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from ..domain import PendingClaim, ReasonProfile, Routing, WorkItem

_ROUTING_FIELDS = ("profile", "task_type", "priority", "queue", "skill", "sla_minutes", "max_attempts",
                   "retry_delay_s")
_ITEM_FIELDS = ("request_id", "callback_number", "channel", "time_zone", "language", "status",
                "visible_from", "due_at", "expires_at", "created_at", "updated_at", "account_id",
                "account_number", "identification", "identify_until", "reason_code", "preferred_from",
                "preferred_to", "owner", "attempts", "last_failure", "outcome", "closed_by", "close_reason",
                "version")


def item_fields(item: WorkItem) -> dict[str, Any]:
    """Every stored field of the item except ``_id`` (for ``$set``)."""
    stored = {name: getattr(item, name) for name in _ITEM_FIELDS}
    stored.update(asdict(item.routing))
    stored["candidates"] = list(item.candidates)
    stored["attributes"] = dict(item.attributes)
    stored["pending_claim"] = asdict(item.pending_claim) if item.pending_claim else None
    return stored


def item_document(item: WorkItem) -> dict[str, Any]:
    return {"_id": item.callback_id, **item_fields(item)}


def item_from_document(doc: dict[str, Any]) -> WorkItem:
    pending = doc.get("pending_claim")
    return WorkItem(
        callback_id=doc["_id"],
        routing=Routing(**{name: doc[name] for name in _ROUTING_FIELDS}),
        candidates=tuple(doc.get("candidates") or ()),
        attributes=dict(doc.get("attributes") or {}),
        pending_claim=PendingClaim(**pending) if pending else None,
        **{name: doc.get(name) for name in _ITEM_FIELDS if name in doc},
    )


def profile_document(profile: ReasonProfile) -> dict[str, Any]:
    stored = asdict(profile)
    return {"_id": stored.pop("reason_code"), **stored}


def profile_from_document(doc: dict[str, Any]) -> ReasonProfile:
    known = {f.name for f in fields(ReasonProfile)} - {"reason_code"}
    return ReasonProfile(reason_code=doc["_id"], **{k: v for k, v in doc.items() if k in known})
