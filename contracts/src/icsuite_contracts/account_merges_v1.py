"""Topic ``ic.account-merges.v1``: duplicate accounts merged and unmerged, keyed by ``merge_id``.

Identity (the owner of accounts) publishes ``merged`` when a supervisor or administrator merges a duplicate
(the source) into the account that survives (the target), and ``unmerged`` when the merge is undone.
Interactions, callbacks, follow-ups and alerts move what belonged to the source to the target, record what
they moved per merge, and on ``unmerged`` move exactly those objects back. Keyed by the merge, so a merge's
two events arrive in order.
"""

from __future__ import annotations

from pydantic import Field

from .base import Event, Id, Timestamp

TOPIC = "ic.account-merges.v1"


class _MergeEvent(Event):
    topic = TOPIC
    key_field = "merge_id"

    merge_id: Id = Field(description="The merge.", examples=["mg-7d21c0"])
    source_account_id: Id = Field(description="The duplicate account that was merged away.",
                                  examples=["acc-100233"])
    target_account_id: Id = Field(description="The account that survives the merge.", examples=["acc-100200"])


class AccountMerged(_MergeEvent):
    """A duplicate account was merged into another: what belonged to the source now belongs to the target."""

    ce_type = "ic.account.merged.v1"

    merged_by: Id = Field(description="The supervisor or administrator who merged them.", examples=["sup-1"])
    merged_at: Timestamp = Field(description="When they were merged.", examples=["2026-12-07T06:00:00Z"])


class AccountUnmerged(_MergeEvent):
    """A merge was undone: what the merge moved to the target belongs to the source again."""

    ce_type = "ic.account.unmerged.v1"

    unmerged_by: Id = Field(description="The supervisor or administrator who undid it.", examples=["sup-1"])
    unmerged_at: Timestamp = Field(description="When it was undone.", examples=["2026-12-07T07:00:00Z"])


EVENT_TYPES = (AccountMerged, AccountUnmerged)
