"""Merging duplicate accounts and undoing it; the duplicate report.

A merge marks the source first, then records the merge with its ``ic.account.merged.v1`` in the outbox: a
crash between the two leaves the mark with its merge id, so the repeated request finishes the same merge.
An unmerge records the undoing with ``ic.account.unmerged.v1`` first, then clears the mark: a repeated
request finds the merge undone and clears what is left.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from icsuite_contracts.account_merges_v1 import AccountMerged, AccountUnmerged

from ..domain.accounts import AccountRecord
from ..domain.duplicates import SuspectPair, address_pairs, identifier_pairs, similar_name_candidates
from ..domain.errors import AccountNotFound
from ..domain.merges import (
    AccountMerge,
    MergeNotFound,
    check_mergeable,
    decide_clear_mark,
    decide_mark,
    decide_merge,
    decide_unmerge,
)
from ..repository.reads import get_many
from ..repository.search import SIMILARITY_CUTOFF, word_similarity
from .service import IdentityService, commanded

SCAN_BATCH = 2000
"""Lookup documents one page of the duplicate report reads at most."""


def new_merge_id() -> str:
    return f"mg-{uuid.uuid4().hex[:20]}"


async def _existing(svc: IdentityService, account_id: str) -> AccountRecord:
    account = await svc.reads.account(account_id)
    if account is None:
        raise AccountNotFound(account_id)
    return account


async def merge_accounts(svc: IdentityService, target_id: str, source_id: str, by: str) -> AccountMerge:
    """Merge ``source_id`` into ``target_id`` (a repeated request answers the same merge)."""
    await _existing(svc, target_id)
    await _existing(svc, source_id)
    source_mark, target_mark = await svc.merges.mark(source_id), await svc.merges.mark(target_id)
    check_mergeable(source_id, target_id, source_mark, target_mark, await svc.merges.merged_into(source_id))
    merge_id = source_mark.merge_id if source_mark is not None and source_mark.merge_id else new_merge_id()
    await svc.merges.marks.change(source_id, lambda current: decide_mark(current, source_id, merge_id, target_id))
    now = svc.clock()
    merge = AccountMerge(merge_id, source_id, target_id, by, now)
    event = commanded(merge_id, now)(AccountMerged(merge_id=merge_id, source_account_id=source_id,
                                                   target_account_id=target_id, merged_by=by, merged_at=now))
    await svc.merges.merges.change(merge_id, lambda current: decide_merge(current, merge, event))
    stored = await svc.merges.merges.get(merge_id)
    assert stored is not None
    return stored.state


async def unmerge(svc: IdentityService, merge_id: str, by: str) -> AccountMerge:
    """Undo a merge: the source is itself again and the services move back what the merge moved."""
    stored = await svc.merges.merges.get(merge_id)
    if stored is None:
        raise MergeNotFound(merge_id)
    merge, now = stored.state, svc.clock()
    event = commanded(merge_id, now)(AccountUnmerged(
        merge_id=merge_id, source_account_id=merge.source_account_id, target_account_id=merge.target_account_id,
        unmerged_by=by, unmerged_at=now))
    outcome = await svc.merges.merges.change(merge_id, lambda current: decide_unmerge(current, merge_id, by, now,
                                                                                      event))
    await svc.merges.marks.change(merge.source_account_id, lambda current: decide_clear_mark(current, merge_id))
    assert outcome.stored is not None
    return outcome.stored.state


async def merge(svc: IdentityService, merge_id: str) -> AccountMerge | None:
    stored = await svc.merges.merges.get(merge_id)
    return stored.state if stored is not None else None


def similarity(a: str, b: str) -> float:
    return min(word_similarity(a, b), word_similarity(b, a))


@dataclass(frozen=True)
class DuplicatePage:
    pairs: list[SuspectPair]
    next_cursor: str | None


async def duplicate_report(svc: IdentityService, after: str | None, limit: int) -> DuplicatePage:
    """Likely duplicate pairs, in lookup-key order from ``after``; merged accounts are left out."""
    pairs: list[SuspectPair] = []
    seen: set[tuple[str, str]] = set()
    lookups = await svc.stores.lookups.find({"_id": {"$gt": after or ""}}, limit=SCAN_BATCH)
    for stored in lookups:
        found = identifier_pairs(stored.state)
        candidates = similar_name_candidates(stored.state, similarity, SIMILARITY_CUTOFF)
        if candidates:
            accounts = await get_many(svc.stores.accounts, sorted({i for pair in candidates for i in pair}))
            found += address_pairs(stored.state, candidates, accounts)
        for pair in found:
            if pair.account_ids not in seen and not await _merged(svc, pair):
                seen.add(pair.account_ids)
                pairs.append(pair)
        if len(pairs) >= limit:
            return DuplicatePage(pairs, stored.id)
    return DuplicatePage(pairs, lookups[-1].id if len(lookups) == SCAN_BATCH else None)


async def _merged(svc: IdentityService, pair: SuspectPair) -> bool:
    return any([await svc.merges.mark(account_id) is not None for account_id in pair.account_ids])
