"""Per-account facts: a projection of master data, callbacks, follow-ups and contacts, rebuilt by replay.

The state keeps what is needed to answer the facts at any moment (``derive_facts(state, now)``); it is
changed only by :func:`apply_to_account`, the same function for the live projection and for a backtest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from .observations import Observation

FACT_TYPES: dict[str, str] = {
    "balance": "double",
    "dunning_level": "int",
    "flags": "list",
    "open_callbacks": "int",
    "overdue_followups": "int",
    "contacts_last_7d": "int",
    "contacts_last_30d": "int",
    "last_interaction_outcome": "dyn",
    "credit_status": "dyn",
    "overdue_bills": "int",
    "overdue_amount": "double",
}
"""The facts a condition may use (``facts.<name>``) and their types; ``dyn`` may be null."""

MAX_CONTACTS_KEPT = 500
_OPEN_CALLBACK = {"ic.callback.queued.v1", "ic.callback.claimed.v1", "ic.callback.started.v1",
                  "ic.callback.released.v1"}
_CLOSED_CALLBACK = {"ic.callback.completed.v1", "ic.callback.expired.v1", "ic.callback.cancelled.v1"}
_CONTACT_EVENTS = {"ic.identity.contact-identified.v1", "ic.interaction.opened.v1",
                   "ic.interaction.account-linked.v1"}


@dataclass(frozen=True)
class AccountState:
    agreements: dict[str, dict[str, Any]] = field(default_factory=dict)
    account_version: int | None = None
    flags: tuple[str, ...] = ()
    open_callbacks: frozenset[str] = frozenset()
    overdue_followups: frozenset[str] = frozenset()
    contacts: tuple[tuple[str, datetime], ...] = ()
    last_outcome: str | None = None
    last_outcome_at: datetime | None = None


def apply_to_account(state: AccountState, obs: Observation) -> AccountState | None:
    """The account's state after ``obs``, or None when ``obs`` does not change it."""
    handler = _HANDLERS.get(obs.type) or _handler_by_family(obs.type)
    if handler is None:
        return None
    new = handler(state, obs)
    return None if new is None or new == state else new


def derive_facts(state: AccountState, now: datetime) -> dict[str, Any]:
    agreements = state.agreements.values()
    today = now.date().isoformat()
    overdue = [float(amount) for a in agreements for due, amount in a.get("bills") or () if due < today]
    return {
        "balance": float(sum(float(a.get("balance") or 0) for a in agreements)),
        "dunning_level": max((int(a.get("dunning_level") or 0) for a in agreements), default=0),
        "flags": list(state.flags),
        "open_callbacks": len(state.open_callbacks),
        "overdue_followups": len(state.overdue_followups),
        "contacts_last_7d": sum(1 for _, at in state.contacts if at > now - timedelta(days=7)),
        "contacts_last_30d": sum(1 for _, at in state.contacts if at > now - timedelta(days=30)),
        "last_interaction_outcome": state.last_outcome,
        "credit_status": _credit_status(state),
        "overdue_bills": len(overdue),
        "overdue_amount": round(sum(overdue), 2),
    }


def _credit_status(state: AccountState) -> str | None:
    """The credit status of the account's agreement whose snapshot is the newest (by event time)."""
    newest = max(state.agreements.values(), key=lambda a: a.get("at") or "", default=None)
    return newest.get("credit_status") if newest is not None else None


def empty_facts() -> dict[str, Any]:
    """The facts of an account nothing is known about (or of no account)."""
    return {"balance": 0.0, "dunning_level": 0, "flags": [], "open_callbacks": 0, "overdue_followups": 0,
            "contacts_last_7d": 0, "contacts_last_30d": 0, "last_interaction_outcome": None,
            "credit_status": None, "overdue_bills": 0, "overdue_amount": 0.0}


def _account_upserted(state: AccountState, obs: Observation) -> AccountState | None:
    version = int(obs.data["source_version"])
    if state.account_version is not None and version < state.account_version:
        return None
    return replace(state, account_version=version, flags=tuple(obs.data.get("flags") or ()))


def _agreement_upserted(state: AccountState, obs: Observation) -> AccountState | None:
    data = obs.data
    agreement_id = data["business_agreement_id"]
    version = int(data["source_version"])
    known = state.agreements.get(agreement_id)
    if known is not None and version < int(known["v"]):
        return None
    bills = sorted((str(b["due_date"]), float(b.get("amount") or 0)) for b in data.get("open_bills") or ())
    agreement = {"balance": float(data.get("balance") or 0), "dunning_level": int(data.get("dunning_level") or 0),
                 "v": version, "credit_status": data.get("credit_status"), "bills": [list(b) for b in bills],
                 "at": obs.time.isoformat()}
    return replace(state, agreements={**state.agreements, agreement_id: agreement})


def _callback(state: AccountState, obs: Observation) -> AccountState | None:
    callback_id = obs.data.get("callback_id")
    if not callback_id:
        return None
    closes = obs.type in _CLOSED_CALLBACK or (obs.type == "ic.callback.attempt-failed.v1" and obs.data.get("final"))
    if closes:
        return replace(state, open_callbacks=state.open_callbacks - {callback_id})
    if obs.type in _OPEN_CALLBACK or obs.type == "ic.callback.attempt-failed.v1":
        return replace(state, open_callbacks=state.open_callbacks | {callback_id})
    return None


def _followup(state: AccountState, obs: Observation) -> AccountState | None:
    followup_id = obs.data.get("followup_id")
    if not followup_id:
        return None
    if obs.type == "ic.followup.overdue.v1":
        return replace(state, overdue_followups=state.overdue_followups | {followup_id})
    if obs.type == "ic.followup.status-changed.v1" and obs.data.get("new_status") in ("completed", "cancelled"):
        return replace(state, overdue_followups=state.overdue_followups - {followup_id})
    return None


def _contact(state: AccountState, obs: Observation) -> AccountState | None:
    reference = obs.contact_id or obs.data.get("interaction_id")
    if not reference or any(ref == reference for ref, _ in state.contacts):
        return None
    horizon = obs.time - timedelta(days=30)
    kept = [(ref, at) for ref, at in state.contacts if at > horizon]
    kept.append((reference, obs.time))
    kept.sort(key=lambda item: item[1])
    return replace(state, contacts=tuple(kept[-MAX_CONTACTS_KEPT:]))


def _closed(state: AccountState, obs: Observation) -> AccountState | None:
    if state.last_outcome_at is not None and obs.time < state.last_outcome_at:
        return None
    return replace(state, last_outcome=obs.data.get("outcome"), last_outcome_at=obs.time)


_HANDLERS = {
    "ic.masterdata.account-upserted.v1": _account_upserted,
    "ic.masterdata.business-agreement-upserted.v1": _agreement_upserted,
    "ic.interaction.closed.v1": _closed,
    **{t: _contact for t in _CONTACT_EVENTS},
}


def _handler_by_family(ce_type: str) -> Any:
    if ce_type.startswith("ic.callback."):
        return _callback
    if ce_type.startswith("ic.followup."):
        return _followup
    return None
