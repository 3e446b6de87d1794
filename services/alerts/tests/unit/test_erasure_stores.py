"""The alerts service's erasure on the in-memory store: the copies of the account's alerts at the stream's
positions and the messages of its absence rules' checks go too, once (a redelivered request changes nothing)."""

from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.erasure import ERASED
from icsuite_chassis.testing import SettableClock
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.identity_v1 import ContactIdentified

from icsuite_alerts import erasure
from icsuite_alerts.domain.rules import Absence, RuleSpec

pytestmark = [pytest.mark.unit]
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TRIGGER = "ic.identity.contact-identified.v1"


def identified(contact: str, account: str):
    data = ContactIdentified(contact_id=contact, account_id=account, method="auto_number", confirmed=False,
                             agent_id="a-1")
    return new_envelope(data, source="/test", time=T0, correlation_id=contact)


async def service_with(make_service, clock, **overrides):
    svc = make_service(clock)
    await svc.cache.refresh(force=True)
    fields = {"name": "seen", "triggers": (TRIGGER,), "condition": "true", "severity": "info",
              "message": "seen {event.contact_id} of {event.account_id}", "target": "agent", "dedupe_window_s": 0}
    await svc.create_rule(RuleSpec(**{**fields, **overrides}), by="admin-1")
    await svc.cache.refresh(force=True)
    for contact, account in (("ct-1", "acc-1"), ("ct-2", "acc-2")):
        await svc.on_event(identified(contact, account))
    return svc


def versions(store) -> dict:
    return {doc_id: doc["_version"] for doc_id, doc in store.documents.items()}


async def test_the_copies_of_the_accounts_alerts_leave_the_stream_and_their_positions_stay_taken(make_service) -> None:
    svc = await service_with(make_service, SettableClock(T0))
    entries = svc.stream._entries
    assert sorted(d["alert"]["account_id"] for d in entries.documents.values()) == ["acc-1", "acc-2"]
    assert (await erasure.survey(svc, "acc-1"))["stream_copies"] == 1

    await erasure.erase(svc, "acc-1")

    delivered = await svc.alert_queries.entries({}, after=0, upto=svc.stream.position, limit=10)
    assert [a["account_id"] for a in delivered] == ["acc-2"]
    assert sorted(entries.documents) == [1, 2] and all("acc-1" not in str(d) for d in entries.documents.values())
    before = versions(entries)
    await erasure.erase(svc, "acc-1")  # a redelivered request
    assert versions(entries) == before and (await erasure.survey(svc, "acc-1"))["stream_copies"] == 0


async def test_the_messages_of_the_accounts_absence_checks_are_erased(make_service) -> None:
    clock = SettableClock(T0)
    svc = await service_with(make_service, clock, after=Absence(60, ("ic.contact.ended.v1",)))
    assert [d["message"] for d in svc.absences.documents.values()] == ["seen ct-1 of acc-1", "seen ct-2 of acc-2"]
    assert (await erasure.survey(svc, "acc-1"))["absences"] == 1

    await erasure.erase(svc, "acc-1")

    messages = {d["account_id"]: d["message"] for d in svc.absences.documents.values()}
    assert messages == {"acc-1": ERASED, "acc-2": "seen ct-2 of acc-2"}
    before = versions(svc.absences)
    await erasure.erase(svc, "acc-1")  # a redelivered request
    assert versions(svc.absences) == before and (await erasure.survey(svc, "acc-1"))["absences"] == 0
    clock.now = T0 + timedelta(seconds=61)  # a pending check raises later: its alert says "[erased]" too
    assert await svc.raise_due_absences() == 2
    assert sorted(d["message"] for d in svc.alerts.documents.values()) == [ERASED, "seen ct-2 of acc-2"]
