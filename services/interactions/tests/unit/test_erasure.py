"""Erasure of a record's personal data, without I/O, and the handler on the in-memory store."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from icsuite_chassis.erasure import ERASED
from icsuite_chassis.store import Change, InMemoryAggregateStore, Stored

from icsuite_interactions.domain.erasure import decide_erase, personal_data
from icsuite_interactions.domain.record import Activity, Attachment, LateEvent, Note, Record, ScratchPad
from icsuite_interactions.handlers.erasure import RecordErasure
from icsuite_interactions.repository import INTERACTIONS, RecordCodec

pytestmark = pytest.mark.unit
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _record(interaction_id: str = "int-1", account_id: str = "acc-1", **changes) -> Record:
    record = Record(
        interaction_id, created_at=T0, status="closed", origin="contact", contact_id="ct.1", channel="phone",
        from_address="+4930123456", to_address="+493011880", account_id=account_id, closed_at=T0 + timedelta(1),
        outcome="resolved", activities=(Activity("act-1", "fax_sent", T0, "a-1", {"to": "+4930999"}),),
        notes=(Note("n-1", "note", "de", "Kunde zahlt in Raten", "a-1", T0),),
        attachments=(Attachment("att-1", "plan.pdf", "application/pdf", 3, "abc", "a-1", T0, "file-1"),),
        late_events=(LateEvent("e-1", "t", "/s", T0, {"from": "+4930123456"}),),
        scratch_pad=ScratchPad("Rückruf morgen", T0, "a-1"), attributes={"campaign": "spring"})
    return replace(record, **changes)


def test_a_closed_record_is_erased_but_keeps_its_ids_times_and_outcome() -> None:
    change = decide_erase(Stored("int-1", _record(), 3))

    erased = change.state
    assert (erased.notes[0].text, erased.scratch_pad.text, erased.attachments[0].name) == (ERASED,) * 3
    assert (erased.from_address, erased.to_address, erased.attributes) == (ERASED, ERASED, {})
    assert erased.activities[0].details == {} and erased.late_events[0].data == {}
    assert (erased.status, erased.outcome, erased.notes[0].note_id, erased.attachments[0].file_id) == (
        "closed", "resolved", "n-1", "file-1")
    assert change.events == ()


def test_what_is_counted_and_that_an_erased_record_changes_no_more() -> None:
    assert personal_data(_record()) == {"notes": 1, "scratch_pads": 1, "attachments": 1, "addresses": 2,
                                        "activity_details": 1, "attributes": 1, "late_events": 1}
    erased = decide_erase(Stored("int-1", _record(), 3)).state
    assert not any(personal_data(erased).values())
    assert decide_erase(Stored("int-1", erased, 4)) is None


class Files:
    def __init__(self) -> None:
        self.deleted: list[object] = []

    async def delete(self, file_id: object) -> None:
        self.deleted.append(file_id)


async def test_the_handler_erases_only_the_accounts_records_and_deletes_their_attachments() -> None:
    store = InMemoryAggregateStore(INTERACTIONS, RecordCodec())
    for record in (_record("int-1"), _record("int-2", account_id="acc-2")):
        await store.change(record.interaction_id, lambda _, r=record: Change(r))
    files = Files()
    erasure = RecordErasure(store, files)  # type: ignore[arg-type]

    assert (await erasure.survey("acc-1"))["notes"] == 1
    await erasure.erase("acc-1")
    await erasure.erase("acc-1")

    assert (await store.get("int-1")).state.notes[0].text == ERASED
    assert (await store.get("int-2")).state.notes[0].text == "Kunde zahlt in Raten"
    assert files.deleted == ["file-1", "file-1"]
