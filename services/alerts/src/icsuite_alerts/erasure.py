"""The alerts service's part of an account's erasure: its event log, its facts, its alerts with their copies
at the stream's positions, and its absence rules' checks."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from icsuite_chassis.store import Change, Item, Stored

from .domain.erasure import (
    decide_erase_absence,
    decide_erase_alert,
    decide_erase_facts,
    erased_observation,
    facts_held,
    holds_data,
)
from .handlers import AlertsService
from .projections.event_log import KeptEvent

SERVICE = "alerts"
MAX_ITEMS = 100_000


def _decide_erase_kept(current: Stored[KeptEvent] | None) -> Change[KeptEvent] | None:
    if current is None or not holds_data(current.state.observation):
        return None
    return Change(replace(current.state, observation=erased_observation(current.state.observation)))


async def _event_filter(svc: AlertsService, account_id: str) -> dict[str, Any]:
    """The account's events: naming it, or naming one of its contacts (a contact's start names a hint)."""
    contacts = await svc.contacts.store.find({"account_id": account_id}, limit=MAX_ITEMS)
    return {"$or": [{"data.account_id": account_id}, {"data.account_hint": account_id},
                    {"data.contact_id": {"$in": [str(c.id) for c in contacts]}}]}


async def survey(svc: AlertsService, account_id: str) -> dict[str, int]:
    kept = await svc.event_log.writer.store.find(await _event_filter(svc, account_id), limit=MAX_ITEMS)
    facts = await svc.accounts.writer.store.get(account_id)
    alerts = await svc.alerts.find({"account_id": account_id}, limit=MAX_ITEMS)
    absences = await svc.absences.find({"account_id": account_id}, limit=MAX_ITEMS)
    return {"events": sum(holds_data(k.state.observation) for k in kept),
            "facts": int(facts is not None and facts_held(facts.state)),
            "alerts": sum(decide_erase_alert(a) is not None for a in alerts),
            "stream_copies": await svc.stream.copies([str(a.id) for a in alerts]),
            "absences": sum(decide_erase_absence(a) is not None for a in absences)}


async def erase(svc: AlertsService, account_id: str) -> None:
    log = svc.event_log.writer.store
    kept = await log.find(await _event_filter(svc, account_id), limit=MAX_ITEMS)
    await log.change_many([Item(k.id, _decide_erase_kept) for k in kept])
    await svc.accounts.writer.store.change(account_id, decide_erase_facts)
    # the absences first: a pending one raising meanwhile then raises an alert that is already "[erased]"
    absences = await svc.absences.find({"account_id": account_id}, limit=MAX_ITEMS)
    await svc.absences.change_many([Item(a.id, decide_erase_absence) for a in absences])
    alerts = await svc.alerts.find({"account_id": account_id}, limit=MAX_ITEMS)
    await svc.alerts.change_many([Item(a.id, decide_erase_alert) for a in alerts])
    await svc.stream.forget([str(a.id) for a in alerts])
