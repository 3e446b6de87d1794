"""Merging a duplicate account (the source) into the account that survives (the target), and undoing it.

A merge is an :class:`AccountMerge` (the audit: who merged, when, who undid it, when) and a
:class:`MergeMark` on the source account (``merged_into``): while it is set, the source's numbers, e-mail
addresses and names find the target. The other services move the source's objects when they read the
merge's event, and move exactly those back on the unmerge.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from icsuite_chassis.errors import ConflictError, InvalidError, NotFoundError
from icsuite_chassis.store import Change, Stored


@dataclass(frozen=True)
class AccountMerge:
    merge_id: str
    source_account_id: str
    target_account_id: str
    merged_by: str
    merged_at: datetime
    status: str = "merged"
    """``merged`` or ``unmerged``."""
    unmerged_by: str | None = None
    unmerged_at: datetime | None = None


@dataclass(frozen=True)
class MergeMark:
    """The source account's mark: merged into ``target_account_id`` by ``merge_id`` (both None: not merged)."""

    account_id: str
    merge_id: str | None = None
    target_account_id: str | None = None


class MergeRefused(ConflictError):
    """The accounts' state does not allow the merge; ``code`` says why."""

    def __init__(self, detail: str, code: str, **extensions: Any):
        super().__init__(detail, code=code, **extensions)


class SameAccount(InvalidError):
    def __init__(self, account_id: str):
        super().__init__(f"account {account_id} cannot be merged into itself", field="source_account_id")


class MergeNotFound(NotFoundError):
    def __init__(self, merge_id: str):
        super().__init__(f"merge {merge_id} does not exist")


def check_mergeable(source_id: str, target_id: str, source_mark: MergeMark | None, target_mark: MergeMark | None,
                    merged_into_source: int) -> None:
    """A merge needs two different accounts; the target must not be merged itself, the source not into
    another account, and no account may be merged into the source (undo or re-target those first, so that
    every unmerge restores exactly what its merge moved)."""
    if source_id == target_id:
        raise SameAccount(source_id)
    if target_mark is not None and target_mark.merge_id is not None:
        raise MergeRefused(f"account {target_id} is merged into {target_mark.target_account_id}",
                           "target-merged", merged_into=target_mark.target_account_id)
    if source_mark is not None and source_mark.merge_id is not None and source_mark.target_account_id != target_id:
        raise MergeRefused(f"account {source_id} is already merged into {source_mark.target_account_id}",
                           "source-merged", merged_into=source_mark.target_account_id)
    if merged_into_source:
        raise MergeRefused(f"{merged_into_source} account(s) are merged into {source_id}; unmerge them first",
                           "source-has-merges")


def decide_mark(current: Stored[MergeMark] | None, account_id: str, merge_id: str,
                target_id: str) -> Change[MergeMark] | None:
    """Mark the source merged (once; a repeated merge of the same pair changes nothing)."""
    mark = current.state if current is not None else None
    if mark is not None and mark.merge_id == merge_id:
        return None
    if mark is not None and mark.merge_id is not None:
        raise MergeRefused(f"account {account_id} is already merged into {mark.target_account_id}",
                           "source-merged", merged_into=mark.target_account_id)
    return Change(MergeMark(account_id, merge_id, target_id))


def decide_clear_mark(current: Stored[MergeMark] | None, merge_id: str) -> Change[MergeMark] | None:
    """The unmerge restores the source: its mark goes (only the mark of this merge)."""
    if current is None or current.state.merge_id != merge_id:
        return None
    return Change(MergeMark(current.state.account_id))


def decide_merge(current: Stored[AccountMerge] | None, merge: AccountMerge,
                 event: Any) -> Change[AccountMerge] | None:
    """Record the merge with its event in the outbox; a repeated request finds it recorded."""
    if current is not None:
        return None
    return Change(merge, [event])


def decide_unmerge(current: Stored[AccountMerge] | None, merge_id: str, by: str, at: datetime,
                   event: Any) -> Change[AccountMerge] | None:
    """Undo a merge once, with its event in the outbox; a repeated unmerge changes nothing."""
    if current is None:
        raise MergeNotFound(merge_id)
    if current.state.status == "unmerged":
        return None
    return Change(replace(current.state, status="unmerged", unmerged_by=by, unmerged_at=at), [event])
