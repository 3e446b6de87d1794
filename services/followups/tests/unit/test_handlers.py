"""The use cases on the in-memory store: what is stored, what is published, and races between replicas."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from icsuite_chassis.store import StoreConflict
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.interactions_v1 import InteractionAccountLinked, InteractionOpened, NoteAdded

from icsuite_followups import handlers, jobs
from icsuite_followups.domain import (
    Actor,
    MAX_NOTES,
    CustomizingChanged,
    FollowupFinished,
    FollowupNotFound,
    FollowupTypeRules,
    InvalidTransition,
    NewFollowup,
    NoteDraft,
    NotesHistoryFull,
    NotOwner,
    Schedule,
    SourceSnapshot,
)
from icsuite_followups.repository import FOLLOWUP_TYPES_CONFIG

pytestmark = pytest.mark.unit
UPDATED, OVERDUE = "ic.followup.updated.v1", "ic.followup.overdue.v1"


def _cmd(source_type: str = "interaction", source_id: str = "int-1", **kw) -> NewFollowup:
    return NewFollowup(source_type=source_type, source_id=source_id, type=kw.pop("type", "phone_call"),
                       channel="phone", **kw)


async def _create(svc, cmd: NewFollowup | None = None, author: str = "a-1"):
    return await handlers.create_followup(svc, cmd or _cmd(), source_data=SourceSnapshot.empty(), author=author,
                                          correlation_id=None)


async def test_a_follow_up_is_stored_with_its_events_in_its_outbox(svc, outbox) -> None:
    followup = await _create(svc, _cmd(notes=[NoteDraft("note", "en", "hello")]))
    assert (await handlers.get_followup(svc, followup.followup_id)) == followup
    events = outbox(svc)
    assert [e.type for e in events] == ["ic.followup.created.v1", "ic.followup.note-added.v1"]
    assert {e.correlation_id for e in events} == {followup.followup_id}
    with pytest.raises(FollowupNotFound):
        await handlers.get_followup(svc, "fu-none")


async def test_a_change_that_changes_nothing_is_not_stored(svc, outbox) -> None:
    followup = await _create(svc)
    outbox(svc)
    same = await handlers.change_followup(svc, followup.followup_id, {"priority": followup.priority}, actor=Actor("a-1"))
    assert same == followup and outbox(svc) == []
    assert svc.followups.documents[followup.followup_id]["_version"] == 1
    with pytest.raises(FollowupNotFound):
        await handlers.change_followup(svc, "fu-none", {"priority": 1}, actor=Actor("a-1"))


async def test_changes_of_two_replicas_at_once_are_all_kept(svc, replica, races, outbox) -> None:
    """Each replica decides on what it read; a lost race is decided again on the fresh state."""
    followup = await _create(svc)
    other = replica(svc)
    lost = races(svc, other)
    fields = ["account_id", "business_agreement_id", "premise_id", "contact_person_id", "reason_code"]
    await asyncio.gather(*(handlers.change_followup(s, followup.followup_id, {name: f"v-{name}"}, actor=Actor("a-1"))
                           for s, name in zip([svc, other] * 3, fields, strict=False)))
    final = await handlers.get_followup(svc, followup.followup_id)
    assert all(final.parties[name] == f"v-{name}" for name in fields)
    assert final.version == 1 + len(fields)
    updates = outbox(svc, UPDATED)
    assert sorted(tuple(e.data.changed) for e in updates) == sorted((name,) for name in fields)
    assert len({e.id for e in updates}) == len(fields)
    assert lost.count > 0  # the replicas did race


async def test_a_write_that_keeps_losing_ends_in_a_conflict(svc) -> None:
    followup = await _create(svc)
    other = svc.followups.shared_with()

    async def someone_else_writes_first() -> None:
        doc = other.documents[followup.followup_id]
        doc["_version"] += 1

    svc.followups.before_write = someone_else_writes_first
    with pytest.raises(StoreConflict):
        await handlers.change_followup(svc, followup.followup_id, {"priority": 1}, actor=Actor("a-1"))


async def test_an_invalid_transition_is_refused_and_nothing_is_stored(svc, outbox) -> None:
    followup = await _create(svc)
    outbox(svc)
    with pytest.raises(InvalidTransition):
        await handlers.change_followup(svc, followup.followup_id, {"status": "bogus"}, actor=Actor("a-1"))
    await handlers.change_followup(svc, followup.followup_id, {"status": "completed"}, actor=Actor("a-1"))
    with pytest.raises(FollowupFinished):
        await handlers.change_followup(svc, followup.followup_id, {"status": "open"}, actor=Actor("a-1"))
    assert [e.data.new_status for e in outbox(svc)] == ["completed"]


async def test_notes_of_two_replicas_are_both_appended_up_to_the_limit(svc, replica, races, outbox) -> None:
    followup = await _create(svc)
    other = replica(svc)
    lost = races(svc, other)
    await asyncio.gather(*(handlers.add_note(s, followup.followup_id, NoteDraft("note", "en", f"n{i}"), author="a-2")
                           for i, s in enumerate([svc, other] * 5)))
    notes = (await handlers.get_followup(svc, followup.followup_id)).notes
    assert sorted(n.text for n in notes) == sorted(f"n{i}" for i in range(10))
    assert len(outbox(svc, "ic.followup.note-added.v1")) == 10 and lost.count > 0
    for i in range(MAX_NOTES - 10):
        await handlers.add_note(svc, followup.followup_id, NoteDraft("note", "en", "x"), author="a-2")
    with pytest.raises(NotesHistoryFull):
        await handlers.add_note(other, followup.followup_id, NoteDraft("note", "en", "one too many"), author="a-2")


async def test_overdue_is_reported_once_by_racing_replicas(svc, replica, races, outbox, clock) -> None:
    due = await _create(svc, _cmd(type="task", schedule=Schedule(due_at=clock() + timedelta(minutes=1))))
    later = await _create(svc, _cmd(type="task", schedule=Schedule(due_at=clock() + timedelta(days=1))))
    done = await _create(svc, _cmd(type="task", schedule=Schedule(due_at=clock())))
    await handlers.change_followup(svc, done.followup_id, {"status": "completed"}, actor=Actor("a-1"))
    outbox(svc)
    clock.advance(minutes=2)
    replicas = [svc, replica(svc), replica(svc)]
    lost = races(*replicas)
    reports = await asyncio.gather(*(jobs.report_overdue(s) for s in replicas * 3))
    assert sum(reports) == 1 and lost.count > 0
    events = outbox(svc, OVERDUE)
    assert [e.data.followup_id for e in events] == [due.followup_id]
    assert (await handlers.get_followup(svc, due.followup_id)).overdue_emitted
    assert not (await handlers.get_followup(svc, later.followup_id)).overdue_emitted
    assert await jobs.report_overdue(svc) == 0  # after a restart too: the report is stored with the follow-up


async def test_the_overdue_job_reports_a_batch_per_run(service_with, clock, outbox) -> None:
    svc = service_with(overdue_batch_size=2)
    for _ in range(3):
        await _create(svc, _cmd(type="task", schedule=Schedule(due_at=clock())))
    assert (await jobs.report_overdue(svc), await jobs.report_overdue(svc), await jobs.report_overdue(svc)) == (2, 1, 0)
    assert len(outbox(svc, OVERDUE)) == 3


def _linked(iid: str):
    return new_envelope(InteractionAccountLinked(interaction_id=iid, account_id="acc-1", business_agreement_id="ba-1",
                                                 premise_id="pr-1"), source="/test")


async def test_an_account_learned_later_is_copied_once_also_when_redelivered(svc, outbox, clock) -> None:
    opened = new_envelope(InteractionOpened(interaction_id="int-7", origin="contact", channel="phone",
                                            direction="inbound", opened_at=clock()), source="/test")
    await handlers.apply_interaction_events(svc, [opened])
    waiting = await _create(svc, _cmd(source_id="int-7"))
    finished = await _create(svc, _cmd(source_id="int-7"))
    await handlers.change_followup(svc, finished.followup_id, {"status": "completed"}, actor=Actor("a-1"))
    assert waiting.awaiting_copy == ("account_id", "business_agreement_id")
    outbox(svc)
    linked = _linked("int-7")
    await handlers.apply_interaction_events(svc, [linked])
    await handlers.apply_interaction_events(svc, [linked])  # redelivered
    for fid in (waiting.followup_id, finished.followup_id):
        copied = await handlers.get_followup(svc, fid)
        assert (copied.account_id, copied.parties["business_agreement_id"]) == ("acc-1", "ba-1")
        assert copied.awaiting_copy == ()
    updates = outbox(svc, UPDATED)
    assert len(updates) == 2 and {e.causation_id for e in updates} == {linked.id}


async def test_a_follow_up_created_after_the_event_gets_the_account_at_once(svc) -> None:
    note = new_envelope(NoteAdded(interaction_id="int-8", account_id="acc-8", note_id="n-1", type="note",
                                  language="en", text="hi", author="a-3", created_at=svc.clock()), source="/test")
    await handlers.apply_interaction_events(svc, [note])
    created = await _create(svc, _cmd(source_id="int-8"))
    assert created.account_id == "acc-8" and [n.text for n in created.notes] == ["hi"]


async def test_the_customizing_is_seeded_once_and_replaced_at_its_version(svc, replica) -> None:
    await asyncio.gather(handlers.seed_customizing(svc), handlers.seed_customizing(replica(svc)))
    current = await handlers.read_config(svc, FOLLOWUP_TYPES_CONFIG)
    assert current.version == 1 and current.updated_by == "seed"
    rules = FollowupTypeRules(channels={"phone": ("task",)}, source_types={"case": ("task",)})
    with pytest.raises(CustomizingChanged):
        await handlers.replace_config(svc, FOLLOWUP_TYPES_CONFIG, rules, by="ad-1", expected_version=7)
    replaced = await handlers.replace_config(svc, FOLLOWUP_TYPES_CONFIG, rules, by="ad-1", expected_version=1)
    assert (replaced.version, replaced.updated_by, replaced.rules) == (2, "ad-1", rules)
    await handlers.seed_customizing(svc)  # never over a stored value
    assert (await handlers.read_config(svc, FOLLOWUP_TYPES_CONFIG)).rules == rules


DUE = "ic.followup.due.v1"


async def test_a_call_whose_planned_start_arrived_comes_due_once_across_replicas(svc, replica, races, outbox,
                                                                                  clock) -> None:
    start = clock() + timedelta(minutes=5)
    call = await _create(svc, _cmd(schedule=Schedule(planned_start=start), requested={"owner_id": "a-7",
                                                                                     "account_id": "acc-1"}))
    task = await _create(svc, _cmd(type="task", schedule=Schedule(planned_start=start)))
    unplanned = await _create(svc, _cmd())
    outbox(svc)
    assert await jobs.report_due(svc) == 0  # not yet
    clock.advance(minutes=5)
    replicas = [svc, replica(svc), replica(svc)]
    lost = races(*replicas)
    assert sum(await asyncio.gather(*(jobs.report_due(s) for s in replicas * 3))) == 1 and lost.count > 0
    [due] = outbox(svc)
    assert (due.type, due.key, due.data.owner_id, due.data.account_id, due.data.type) == (
        DUE, call.followup_id, "a-7", "acc-1", "phone_call")
    assert due.data.planned_start == start and due.correlation_id == call.followup_id
    assert (await handlers.get_followup(svc, call.followup_id)).came_due_at == clock()
    restarted = replica(svc)  # a new process on the same documents
    assert await jobs.report_due(restarted) == 0 and outbox(svc) == []
    for fid in (task.followup_id, unplanned.followup_id):
        assert (await handlers.get_followup(svc, fid)).came_due_at is None


async def test_a_new_planned_start_comes_due_again_with_a_new_event_id(svc, outbox, clock) -> None:
    call = await _create(svc, _cmd(schedule=Schedule(planned_start=clock())))
    await jobs.report_due(svc)
    first = outbox(svc, DUE)
    await handlers.change_followup(svc, call.followup_id, {"planned_start": clock() + timedelta(days=7)}, actor=Actor("a-1"))
    assert (await handlers.get_followup(svc, call.followup_id)).came_due_at is None
    assert await jobs.report_due(svc) == 0
    clock.advance(days=7)
    assert await jobs.report_due(svc) == 1
    second = outbox(svc, DUE)
    assert len(first) == len(second) == 1 and first[0].id != second[0].id


async def test_a_finished_call_never_comes_due(svc, outbox, clock) -> None:
    call = await _create(svc, _cmd(schedule=Schedule(planned_start=clock() + timedelta(minutes=1))))
    await handlers.change_followup(svc, call.followup_id, {"status": "cancelled"}, actor=Actor("a-1"))
    clock.advance(minutes=2)
    assert await jobs.report_due(svc) == 0 and outbox(svc, DUE) == []


async def test_another_agent_can_neither_change_nor_cancel_but_can_add_a_note(svc, outbox) -> None:
    followup = await _create(svc, author="a-1")
    outbox(svc)
    for change in ({"status": "cancelled"}, {"owner_id": "a-2"}):
        with pytest.raises(NotOwner):
            await handlers.change_followup(svc, followup.followup_id, change, actor=Actor("a-2"))
    await handlers.add_note(svc, followup.followup_id, NoteDraft("note", "en", "called, no answer"), author="a-2")
    assert [e.type for e in outbox(svc)] == ["ic.followup.note-added.v1"]
    changed = await handlers.change_followup(svc, followup.followup_id, {"owner_id": "a-2"},
                                             actor=Actor.of("s-1", {"supervisor"}))
    assert changed.owner_id == "a-2" and outbox(svc, UPDATED)[0].data.by == "s-1"
