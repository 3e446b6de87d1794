"""Periodic work: the retention purge of contact contexts (:func:`retention_rules`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from icsuite_chassis.retention import RetentionRule

from .handlers import IdentityService


def retention_rules(service: IdentityService, retention_days: float) -> list[RetentionRule]:
    """A contact's context whose last change is older than the retention goes (its events were published:
    the store purges only documents with an empty outbox)."""

    def untouched_since(cutoff: datetime) -> dict[str, Any]:
        return {"updated_at": {"$lt": cutoff}}

    return [RetentionRule("contact_contexts", service.stores.contexts, untouched_since, retention_days)]
