"""Callbacks' part of an account's erasure: its work items and its replicated numbers."""

from __future__ import annotations

from typing import Any

from icsuite_chassis.erasure import ERASED
from icsuite_chassis.store import Item

from ..domain.erasure import (
    TOMBSTONE_VERSION,
    decide_erase,
    decide_erase_identity,
    decide_erase_phones,
    personal_data,
)
from .core import CallbacksService

SERVICE = "callbacks"
MAX_ITEMS = 100_000


def of_account(account_id: str) -> dict[str, Any]:
    return {"$or": [{"account_id": account_id}, {"candidates": account_id}]}


async def survey(svc: CallbacksService, account_id: str) -> dict[str, int]:
    counts = {"callback_numbers": 0, "attributes": 0}
    for stored in await svc.items.find(of_account(account_id), limit=MAX_ITEMS):
        for kind, n in personal_data(stored.state).items():
            counts[kind] += n
    phones = await svc.accounts.store.get(account_id)
    live = phones is not None and phones.state.source_version != TOMBSTONE_VERSION
    counts["account_numbers"] = len(phones.state.phones) if live and phones is not None else 0
    found = await svc.identifications.store.find(of_account(account_id), limit=MAX_ITEMS)
    counts["identified_numbers"] = sum(decide_erase_identity(stored) is not None for stored in found)
    return counts


async def erase(svc: CallbacksService, account_id: str) -> None:
    items = await svc.items.find(of_account(account_id), limit=MAX_ITEMS)
    numbers = sorted({n for stored in items for n in (stored.state.callback_number, stored.state.dial_number)
                      if n not in (None, ERASED)})
    if numbers:  # the abuse guard's documents are named by the number: they go before the items forget it
        await svc.slots.purge({"_id": {"$in": numbers}}, limit=len(numbers))
        counters = [svc.number_limit.counter(n) for n in numbers]
        await svc.rates.purge({"_id": {"$in": counters}}, limit=len(counters))
    await svc.items.change_many([Item(stored.id, decide_erase) for stored in items])
    await svc.accounts.store.change(account_id, decide_erase_phones)
    found = await svc.identifications.store.find(of_account(account_id), limit=MAX_ITEMS)
    await svc.identifications.store.change_many([Item(stored.id, decide_erase_identity) for stored in found])
