"""Issue 16/17 on the in-memory store: who may change a record, media items, the scratch pad, and the
outbound record of a callback closed with the callback's outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icsuite_chassis.errors import ForbiddenError, InvalidError, LimitReachedError
from icsuite_contracts.callbacks_v1 import (
    CallbackAttemptFailed,
    CallbackCancelled,
    CallbackCompleted,
    CallbackExpired,
    CallbackStarted,
)
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.interactions_v1 import MediaItemAdded
from icsuite_contracts.testing import sample_event

from icsuite_interactions.domain import caps
from icsuite_interactions.domain.errors import InteractionClosed
from icsuite_interactions.domain.ids import interaction_id_for_callback
from icsuite_interactions.domain.rules import Actor, Completion
from icsuite_interactions.projections.timeline import project

from .conftest import T0

pytestmark = pytest.mark.unit
OWNER, OTHER, SUPERVISOR = Actor("a-1"), Actor("a-2"), Actor("s-1", supervisor=True)


async def _record(kit, agent: str | None = "a-1") -> str:
    return (await kit.commands.create_manual({"channel": "phone"}, agent)).interaction_id


async def test_only_an_agent_of_the_record_or_a_supervisor_changes_it(kit) -> None:
    interaction_id = await _record(kit)
    with pytest.raises(ForbiddenError):
        await kit.commands.add_note(interaction_id, OTHER, type="note", language="en", text="not mine")
    with pytest.raises(ForbiddenError):
        await kit.commands.complete(interaction_id, OTHER, Completion("resolved"))
    with pytest.raises(ForbiddenError):
        await kit.commands.write_scratch_pad(interaction_id, OTHER, "x")
    await kit.commands.add_note(interaction_id, SUPERVISOR, type="note", language="en", text="supervised")
    await kit.commands.add_note(interaction_id, OWNER, type="note", language="en", text="mine")
    assert len((await kit.records.get(interaction_id)).notes) == 2


async def test_an_agent_takes_a_record_that_has_no_agent_yet(kit) -> None:
    interaction_id = await _record(kit, None)
    await kit.commands.add_activity(interaction_id, OTHER, kind="form_opened", details={}, at=None, media_item_id=None)
    assert (await kit.records.get(interaction_id)).agent_ids == ("a-2",)
    with pytest.raises(ForbiddenError):
        await kit.commands.add_note(interaction_id, OWNER, type="note", language="en", text="too late")


async def test_media_items_join_the_record_and_activities_name_them(kit, monkeypatch) -> None:
    interaction_id = await _record(kit)
    fax = await kit.commands.add_media_item(interaction_id, OWNER, media="fax", direction="outbound",
                                           started_at=T0, ended_at=T0 + timedelta(minutes=1))
    await kit.commands.add_activity(interaction_id, OWNER, kind="fax_sent", details={}, at=None,
                                    media_item_id=fax.media_item_id)
    with pytest.raises(InvalidError):
        await kit.commands.add_activity(interaction_id, OWNER, kind="x", details={}, at=None, media_item_id="mi-nope")
    record = await kit.records.get(interaction_id)
    assert sorted(i.media for i in record.media.values()) == ["fax", "phone"]
    added = [e for e in kit.store.published() if isinstance(e.data, MediaItemAdded)]
    assert [e.data.media for e in added] == ["fax"]
    monkeypatch.setattr(caps, "MEDIA_ITEMS", 2)
    with pytest.raises(LimitReachedError):
        await kit.commands.add_media_item(interaction_id, OWNER, media="email", direction="inbound", started_at=None,
                                          ended_at=None)
    entry = project(project(None, added[0]), new_envelope(sample_event(MediaItemAdded, media="email",
                                                                       interaction_id=interaction_id), source="/t"))
    assert entry.media == ("email", "fax")


async def test_the_scratch_pad_is_written_while_open_and_kept_read_only(kit) -> None:
    interaction_id = await _record(kit)
    await kit.commands.write_scratch_pad(interaction_id, OWNER, "first thoughts")
    kit.clock.advance(1)
    await kit.commands.write_scratch_pad(interaction_id, OWNER, "moves on 1 April")
    await kit.commands.complete(interaction_id, OWNER, Completion("resolved"))
    with pytest.raises(InteractionClosed):
        await kit.commands.write_scratch_pad(interaction_id, OWNER, "after the close")
    pad = (await kit.records.get(interaction_id)).scratch_pad
    assert (pad.text, pad.updated_by, pad.updated_at) == ("moves on 1 April", "a-1", T0 + timedelta(seconds=1))


def _cb(event_type, **fields):
    return new_envelope(sample_event(event_type, callback_id="cb-1", **fields), source="/tests")


@pytest.mark.parametrize(("end", "outcome", "closed_by"), [
    (lambda: _cb(CallbackCompleted, agent_id="a-7", outcome="reached"), "reached", "a-7"),
    (lambda: _cb(CallbackAttemptFailed, agent_id="a-7", attempt=2, final=True), "callback_failed", "a-7"),
    (lambda: _cb(CallbackExpired), "callback_expired", None),
    (lambda: _cb(CallbackCancelled, by="a-9"), "callback_cancelled", "a-9"),
])
async def test_a_callbacks_outbound_records_close_with_its_outcome(kit, end, outcome, closed_by) -> None:
    first = _cb(CallbackStarted, attempt=1, agent_id="a-7")
    retry = _cb(CallbackAttemptFailed, agent_id="a-7", attempt=1, final=False, retain=True)
    second = _cb(CallbackStarted, attempt=2, agent_id="a-7")
    ending = end()
    await kit.intake.on_events([first, retry])
    assert not (await kit.records.get(interaction_id_for_callback("cb-1", 1))).read_only  # a retry goes on
    await kit.intake.on_events([second, ending, ending])  # started and ended in one batch, the end redelivered
    await kit.intake.on_events([ending])
    for attempt in (1, 2):
        record = await kit.records.get(interaction_id_for_callback("cb-1", attempt))
        assert (record.status, record.outcome, record.closed_by) == ("closed", outcome, closed_by)
    closed = [e for e in kit.store.published() if e.type == "ic.interaction.closed.v1"]
    assert len(closed) == 2 and len({e.id for e in closed}) == 2
