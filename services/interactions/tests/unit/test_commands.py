"""Gateway commands and the self-service job on the in-memory store: the read-only rule at every change,
caps, bulk completion with every blocker named, and races decided again."""

from __future__ import annotations

import asyncio

import pytest
from icsuite_chassis.errors import ConflictError, LimitReachedError, NotFoundError
from icsuite_contracts.cloudevents import new_envelope
from icsuite_contracts.contacts_v1 import ContactEnded, ContactStarted

from icsuite_interactions.domain import caps
from icsuite_interactions.domain.errors import CompletionBlocked, InteractionClosed, InteractionNotFound
from icsuite_interactions.domain.ids import interaction_id_for_contact
from icsuite_interactions.domain.rules import Actor, Completion
from icsuite_interactions.jobs import SelfServiceCloser

from .conftest import T0

pytestmark = pytest.mark.unit
AGENT = Actor("a-17")


async def _manual(kit, account_id: str = "acc-1") -> str:
    record = await kit.commands.create_manual({"channel": "walk_in", "account_id": account_id}, "a-17")
    return record.interaction_id


def _changes(kit, interaction_id: str) -> list:
    commands = kit.commands
    return [
        lambda: commands.add_note(interaction_id, AGENT, type="note", language="en", text="x"),
        lambda: commands.add_activity(interaction_id, AGENT, kind="fax_sent", details={}, at=None, media_item_id=None),
        lambda: commands.add_attachment(interaction_id, AGENT, name="a.pdf", media_type="application/pdf",
                                        content=b"%PDF"),
        lambda: commands.complete(interaction_id, AGENT, Completion("resolved")),
    ]


async def test_a_manual_record_collects_parts_and_publishes_each(kit) -> None:
    interaction_id = await _manual(kit)
    for change in _changes(kit, interaction_id)[:3]:
        await change()
    record = await kit.records.get(interaction_id)
    assert [a.kind for a in record.activities] == ["note_added", "fax_sent", "attachment_added"]
    assert record.attachments[0].sha256 and kit.content.files == {record.attachments[0].file_id: b"%PDF"}
    assert [e.type for e in kit.store.published()] == [
        "ic.interaction.opened.v1", "ic.interaction.note-added.v1", "ic.interaction.activity-recorded.v1",
        "ic.interaction.activity-recorded.v1"]


async def test_a_closed_record_refuses_every_change_and_an_unknown_one_is_not_found(kit) -> None:
    interaction_id = await _manual(kit)
    await kit.commands.complete(interaction_id, AGENT, Completion("resolved"))
    before = kit.store.documents[interaction_id]["_version"]
    for change in _changes(kit, interaction_id):
        with pytest.raises(InteractionClosed):
            await change()
    with pytest.raises(CompletionBlocked) as blocked:
        await kit.commands.complete_many("acc-1", [interaction_id], AGENT, Completion("x"))
    assert blocked.value.extensions["blocking"] == [{"interaction_id": interaction_id, "reason": "closed"}]
    assert kit.store.documents[interaction_id]["_version"] == before and kit.content.files == {}
    for change in _changes(kit, "int-nope"):
        with pytest.raises(InteractionNotFound):
            await change()
    assert isinstance(InteractionClosed("x"), ConflictError) and isinstance(InteractionNotFound("x"), NotFoundError)


async def test_caps_answer_limit_reached(kit, monkeypatch) -> None:
    monkeypatch.setattr(caps, "NOTES", 2)
    monkeypatch.setattr(caps, "ATTACHMENTS", 1)
    interaction_id = await _manual(kit)
    note, _, attach, _ = _changes(kit, interaction_id)
    await note()
    await note()
    with pytest.raises(LimitReachedError):
        await note()
    await attach()
    with pytest.raises(LimitReachedError):
        await attach()
    assert len((await kit.records.get(interaction_id)).notes) == 2 and len(kit.content.files) == 1


async def test_attachment_bytes_are_capped_per_record(kit, monkeypatch) -> None:
    monkeypatch.setattr(caps, "ATTACHMENT_BYTES_PER_RECORD", 6)
    interaction_id = await _manual(kit)
    attach = _changes(kit, interaction_id)[2]
    await attach()
    with pytest.raises(LimitReachedError) as refused:
        await attach()
    assert refused.value.extensions["held_bytes"] == 4 and len(kit.content.files) == 1


async def test_bulk_completion_closes_all_or_names_every_blocker(kit) -> None:
    ids = [await _manual(kit) for _ in range(3)]
    foreign = await _manual(kit, "acc-2")
    with pytest.raises(CompletionBlocked) as blocked:
        await kit.commands.complete_many("acc-1", [*ids, foreign, "int-nope"], AGENT, Completion("resolved"))
    assert blocked.value.extensions["blocking"] == [{"interaction_id": foreign, "reason": "other_account"},
                                                    {"interaction_id": "int-nope", "reason": "not_found"}]
    assert [(await kit.records.get(i)).read_only for i in ids] == [False] * 3
    done = await kit.commands.complete_many("acc-1", ids + ids[:1], AGENT, Completion("resolved", None, "move"))
    assert [r.interaction_id for r in done] == ids and all(r.reason_code == "move" for r in done)


async def test_a_record_closed_during_a_bulk_completion_is_named_and_not_closed_twice(kit) -> None:
    ids = [await _manual(kit) for _ in range(3)]
    other_replica = kit.store.shared_with()

    async def close_one_first() -> None:
        kit.store.before_write = None
        await other_replica.change(ids[1], lambda cur: _closed_by_other(cur))

    kit.store.before_write = close_one_first
    with pytest.raises(CompletionBlocked) as blocked:
        await kit.commands.complete_many("acc-1", ids, AGENT, Completion("resolved"))
    assert blocked.value.extensions["completed"] == [ids[0], ids[2]]
    assert blocked.value.extensions["blocking"] == [{"interaction_id": ids[1], "reason": "changed_concurrently"}]
    assert (await kit.records.get(ids[1])).outcome == "elsewhere"


def _closed_by_other(current):
    from icsuite_chassis.store import Change

    from icsuite_interactions.domain import rules
    return Change(rules.closed(current.state, Completion("elsewhere"), T0, "a-2"))


async def test_a_contact_without_an_agent_closes_itself_once_its_grace_passed(kit) -> None:
    started = ContactStarted(contact_id="ct-1", channel="phone", direction="inbound", from_address="+49301",
                             started_at=T0)
    ended = ContactEnded(contact_id="ct-1", ended_at=T0.replace(minute=2))
    envelopes = [new_envelope(e, source="/tests") for e in (ended, started)]
    await kit.intake.on_events([envelopes[0]])
    kit.clock.advance(5)
    assert await kit.closer.close_due() == 0  # not started yet: looked at again after another grace
    await kit.intake.on_events([envelopes[1]])
    assert await kit.closer.close_due() == 0
    kit.clock.advance(5)
    assert await kit.closer.close_due() == 1
    record = await kit.records.get(interaction_id_for_contact("ct-1"))
    assert record.outcome == "self_service" and record.duration_s == 120.0 and record.self_service_due_at is None
    kit.clock.advance(5)
    assert await kit.closer.close_due() == 0
    assert [e.type for e in kit.store.published()][-1] == "ic.interaction.closed.v1"


async def test_two_replicas_closing_at_once_close_a_record_once(kit) -> None:
    started = ContactStarted(contact_id="ct-2", channel="phone", direction="inbound", from_address="+49301",
                             started_at=T0)
    ended = ContactEnded(contact_id="ct-2", ended_at=T0.replace(minute=1))
    await kit.intake.on_events([new_envelope(e, source="/tests") for e in (started, ended)])
    kit.clock.advance(5)
    other = SelfServiceCloser(kit.store.shared_with(), kit.records, clock=kit.clock, grace_s=3.0)
    assert sorted(await asyncio.gather(kit.closer.close_due(), other.close_due())) == [0, 1]
    closed = [e for e in kit.store.published() if e.type == "ic.interaction.closed.v1"]
    assert len(closed) == 1
