"""Erasure of the alerts service's event log entries, facts and alert messages, without I/O."""

from datetime import UTC, datetime

import pytest
from icsuite_chassis.erasure import ERASED
from icsuite_chassis.store import Stored

from icsuite_alerts.domain.erasure import (
    decide_erase_facts,
    erased_observation,
    facts_held,
    holds_data,
)
from icsuite_alerts.domain.facts import AccountState
from icsuite_alerts.domain.observations import observe

pytestmark = pytest.mark.unit
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_an_erased_event_keeps_only_its_ids_type_and_time() -> None:
    kept = observe(event_id="e-1", ce_type="ic.contact.started.v1", time=T0,
                   data={"contact_id": "ct-1", "from_address": "+4930123456", "account_hint": "acc-1",
                         "candidates": ["acc-1"], "queue": "billing"})

    erased = erased_observation(kept)

    assert erased.data == {"contact_id": "ct-1", "candidates": ["acc-1"], "erased": True}
    assert (erased.type, erased.time, erased.event_id) == (kept.type, kept.time, kept.event_id)
    assert holds_data(kept) and not holds_data(erased)


def test_the_accounts_facts_are_emptied_once() -> None:
    facts = AccountState(flags=("vip",), contacts=(("ct-1", T0),))
    assert facts_held(facts)

    emptied = decide_erase_facts(Stored("acc-1", facts, 1)).state

    assert emptied == AccountState() and decide_erase_facts(Stored("acc-1", emptied, 2)) is None
