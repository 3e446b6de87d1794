"""Erasure of what the alerts service holds about an account (``ic.privacy.erasure-requested.v1``).

- The event log (the kept copies of consumed events that backtests replay): an event of the account keeps
  only its ids (fields named ``*_id``/``*_ids`` and ``candidates``) and ``erased: true``; its type and time
  stay, so a backtest still counts it.
- The account's facts (balances, bills, flags, open callbacks, recent contacts): emptied.
- Its alerts: the message reads ``[erased]`` (a rule's message may quote facts); their copies at the
  alert stream's positions go (:func:`.alerts.decide_blank`, as for a purged alert: the positions stay taken).
- Its absence rules' checks (pending or settled): the message reads ``[erased]``, so an alert a pending one
  raises later says ``[erased]`` too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from icsuite_chassis.erasure import ERASED
from icsuite_chassis.store import Change, Stored

from .absences import PendingAbsence
from .alerts import Alert
from .facts import AccountState
from .observations import Observation

ERASED_MARK = "erased"


def _is_id(name: str) -> bool:
    return name.endswith("_id") or name.endswith("_ids") or name == "candidates"


def holds_data(observation: Observation) -> bool:
    return not observation.data.get(ERASED_MARK)


def erased_observation(observation: Observation) -> Observation:
    data: dict[str, Any] = {k: v for k, v in observation.data.items() if _is_id(k)}
    return replace(observation, data={**data, ERASED_MARK: True})


def facts_held(state: AccountState) -> bool:
    return state != AccountState()


def decide_erase_facts(current: Stored[AccountState] | None) -> Change[AccountState] | None:
    if current is None or not facts_held(current.state):
        return None
    return Change(AccountState())


def decide_erase_alert(current: Stored[Alert] | None) -> Change[Alert] | None:
    if current is None or current.state.message == ERASED:
        return None
    return Change(replace(current.state, message=ERASED))


def decide_erase_absence(current: Stored[PendingAbsence] | None) -> Change[PendingAbsence] | None:
    if current is None or current.state.message == ERASED:
        return None
    return Change(replace(current.state, message=ERASED))
