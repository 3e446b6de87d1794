"""The accounts this service erased (``erased_accounts``, ``_id`` = account id), kept so that personal data
does not come back after an erasure.

An erasure finds follow-ups and interaction records by the ``account_id`` they hold at that moment. One
that names the account only later - a copy completes once the interaction's account is known, an agent
links it, a late interaction event reaches the projection - has its notes erased as soon as it does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icsuite_chassis.store import AggregateStore, Change, Item, Stored

from .domain import Followup
from .domain.erasure import decide_erase, decide_erase_source
from .projections.interaction_sources import InteractionSource

ERASED_ACCOUNTS = "erased_accounts"
ERASED_READ_LIMIT = 1_000_000
ACCOUNTS_PER_READ = 500


@dataclass(frozen=True)
class ErasedAccount:
    account_id: str
    erased_at: datetime


class ErasedAccountCodec:
    def encode(self, state: ErasedAccount) -> dict[str, Any]:
        return {"account_id": state.account_id, "erased_at": state.erased_at}

    def decode(self, doc: Mapping[str, Any]) -> ErasedAccount:
        return ErasedAccount(doc["account_id"], doc["erased_at"])


def decide_mark(current: Stored[ErasedAccount] | None, account_id: str,
                at: datetime) -> Change[ErasedAccount] | None:
    """Mark the account erased (once: a repeated erasure keeps the first mark)."""
    return None if current is not None else Change(ErasedAccount(account_id, at))


async def mark_erased(marks: AggregateStore[ErasedAccount], account_id: str, at: datetime) -> None:
    await marks.change(account_id, lambda current: decide_mark(current, account_id, at))


async def erased_among(marks: AggregateStore[ErasedAccount], account_ids: Sequence[str | None]) -> set[str]:
    wanted = sorted({a for a in account_ids if a is not None})
    return {a for a in wanted if await marks.get(a) is not None}


async def keep_followups_erased(marks: AggregateStore[ErasedAccount], followups: AggregateStore[Followup],
                                changed: Sequence[Followup]) -> list[Followup]:
    """``changed`` as they are now: those that name an erased account with their notes erased."""
    erased = await erased_among(marks, [f.parties.get("account_id") for f in changed])
    hit = [f.followup_id for f in changed if f.parties.get("account_id") in erased]
    if not hit:
        return list(changed)
    outcomes = await followups.change_many([Item(fid, decide_erase) for fid in hit])
    now = {o.stored.id: o.stored.state for o in outcomes if o.stored is not None}
    return [now.get(f.followup_id, f) for f in changed]


async def keep_sources_erased(marks: AggregateStore[ErasedAccount], sources: AggregateStore[InteractionSource],
                              interaction_ids: Sequence[str]) -> None:
    """The projected interactions of erased accounts keep their notes erased (a late note comes in erased)."""
    found = {i: s for i in dict.fromkeys(interaction_ids) if (s := await sources.get(i)) is not None}
    erased = await erased_among(marks, [s.state.account_id for s in found.values()])
    hit = [i for i, s in found.items() if s.state.account_id in erased]
    if hit:
        await sources.change_many([Item(i, decide_erase_source) for i in hit])


def sources_settle(marks: AggregateStore[ErasedAccount]) -> Callable[[AggregateStore[InteractionSource],
                                                                     Sequence[str] | None], Awaitable[None]]:
    """The projection writer's ``settle`` of ``interaction_sources``: after every change of some projected
    interactions (``None``: all of them, after a rebuild's replay) those of erased accounts keep their notes
    erased, whatever the replayed notes said."""

    async def settle(sources: AggregateStore[InteractionSource], interaction_ids: Sequence[str] | None) -> None:
        if interaction_ids is not None:
            await keep_sources_erased(marks, sources, interaction_ids)
            return
        accounts = [stored.id for stored in await marks.find({}, limit=ERASED_READ_LIMIT)]
        for start in range(0, len(accounts), ACCOUNTS_PER_READ):
            found = await sources.find({"account_id": {"$in": accounts[start:start + ACCOUNTS_PER_READ]}},
                                       limit=ERASED_READ_LIMIT)
            await sources.change_many([Item(stored.id, decide_erase_source) for stored in found])

    return settle
