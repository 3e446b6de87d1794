"""The benchmark's baseline claim (issue 22): the minimal exactly-once claim, for comparison only.

One ``find_one_and_update`` on the inbox index (workable and servable by the agent - the same selection as
claim-next's, ``lifecycle.claimable_by`` - in the inbox order) that sets the owner and answers the item
without its outbox and applied ids (as the store reads it): no domain decision, no version guard of the
store, no event, no outbox. It bypasses the chassis store on purpose, so
that ``make bench`` can put the real claim-next beside the least a claim can cost on the same database
behind the same gateway stack. It exists only when ``bench_claim_baseline`` is set (never in production);
the items it claims are the benchmark's own clones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from ..domain import Actor, WorkItem
from ..domain.lifecycle import claimable_by
from ..repository import INBOX_ORDER, WorkItemCodec

_CODEC = WorkItemCodec()
_WITHOUT_BOOKKEEPING = {"_outbox": 0, "_applied": 0}


async def claim_baseline(collection: Any, actor: Actor, now: datetime) -> WorkItem | None:
    """Claim the most urgent workable item ``actor`` can serve with one atomic write; None when there is none."""
    doc = await collection.find_one_and_update(
        claimable_by(actor, now),
        {"$set": {"status": "claimed", "owner": actor.id, "updated_at": now}, "$inc": {"_version": 1}},
        sort=INBOX_ORDER, projection=_WITHOUT_BOOKKEEPING, return_document=ReturnDocument.AFTER)
    return _CODEC.decode(doc) if doc is not None else None
