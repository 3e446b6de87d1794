"""Followups' part of an account's erasure: the notes of every follow-up of the account."""

from __future__ import annotations

from icsuite_chassis.store import Item

from .domain.erasure import decide_erase, decide_erase_source, personal_data
from .erased_accounts import mark_erased
from .handlers import Service

SERVICE = "followups"
MAX_FOLLOWUPS = 100_000


async def survey(svc: Service, account_id: str) -> dict[str, int]:
    found = await svc.followups.find({"account_id": account_id}, limit=MAX_FOLLOWUPS)
    sources = await svc.interactions.store.find({"account_id": account_id}, limit=MAX_FOLLOWUPS)
    return {"notes": sum(personal_data(stored.state)["notes"] for stored in found),
            "interaction_notes": sum(decide_erase_source(stored) is not None for stored in sources)}


async def erase(svc: Service, account_id: str) -> None:
    """Mark the account erased first (what names it later is erased then), then erase what names it now."""
    await mark_erased(svc.erased_accounts, account_id, svc.clock())
    found = await svc.followups.find({"account_id": account_id}, limit=MAX_FOLLOWUPS)
    await svc.followups.change_many([Item(stored.id, decide_erase) for stored in found])
    sources = await svc.interactions.store.find({"account_id": account_id}, limit=MAX_FOLLOWUPS)
    await svc.interactions.settle([stored.id for stored in sources])  # erased by the marker, live and in a shadow
