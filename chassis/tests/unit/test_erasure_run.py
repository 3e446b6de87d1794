"""One service's erasure run on the in-memory store: survey once, erase, confirm through the outbox; a crash
between the steps and a redelivery confirm the same content with the same event id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.privacy_v1 import Erased, ErasureRequested

from icsuite_chassis.erasure import ERASURES, ErasureRunCodec, run_erasure
from icsuite_chassis.store import InMemoryAggregateStore

pytestmark = pytest.mark.unit
T0 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


class Holder:
    """What a service holds: notes of one account, erased by setting them to None."""

    def __init__(self) -> None:
        self.notes = {"n-1": "secret one", "n-2": "secret two"}
        self.erase_calls = 0
        self.crash_in_erase = False

    async def survey(self, account_id: str) -> dict[str, int]:
        return {"notes": sum(text is not None for text in self.notes.values())}

    async def erase(self, account_id: str) -> None:
        self.erase_calls += 1
        for note_id in list(self.notes)[:1 if self.crash_in_erase else None]:
            self.notes[note_id] = None
        if self.crash_in_erase:
            self.crash_in_erase = False
            raise RuntimeError("killed mid-erasure")


def request() -> tuple[ErasureRequested, object]:
    event = ErasureRequested(erasure_id="er-1", account_id="acc-1", requested_by="admin-1", requested_at=T0)
    return event, new_envelope(event, source="/identity")


async def _run(runs, holder, event, envelope, at=T0):
    return await run_erasure(runs, event, envelope, service="interactions", survey=holder.survey,
                             erase=holder.erase, clock=lambda: at)


async def test_a_run_erases_and_confirms_with_the_counts_it_surveyed():
    runs, holder = InMemoryAggregateStore(ERASURES, ErasureRunCodec()), Holder()
    event, envelope = request()

    run = await _run(runs, holder, event, envelope)

    assert run.done and holder.notes == {"n-1": None, "n-2": None}
    [confirmation] = runs.published()
    assert isinstance(confirmation.data, Erased)
    assert (confirmation.data.service, confirmation.data.erased, confirmation.key) == (
        "interactions", {"notes": 2}, "acc-1")


async def test_a_crash_mid_erasure_resumes_and_confirms_what_was_there_before():
    runs, holder = InMemoryAggregateStore(ERASURES, ErasureRunCodec()), Holder()
    event, envelope = request()
    holder.crash_in_erase = True

    with pytest.raises(RuntimeError):
        await _run(runs, holder, event, envelope)
    assert runs.published() == [] and holder.notes["n-2"] == "secret two"
    await _run(runs, holder, event, envelope)  # the redelivery after the restart

    [confirmation] = runs.published()
    assert confirmation.data.erased == {"notes": 2} and set(holder.notes.values()) == {None}


async def test_a_redelivered_request_confirms_again_with_the_same_content_and_id():
    runs, holder = InMemoryAggregateStore(ERASURES, ErasureRunCodec()), Holder()
    event, envelope = request()
    await _run(runs, holder, event, envelope)
    [first] = runs.published()

    await _run(runs, holder, event, envelope, at=datetime(2026, 12, 8, tzinfo=UTC))

    [again] = runs.published()
    assert (again.id, again.data) == (first.id, first.data)
