"""Gateway commands on records: each loads the record, decides in :mod:`..domain.rules`, saves via the store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from icsuite_chassis.clock import Clock
from icsuite_chassis.store import AggregateStore, Change, Item, Stored

from ..attachments import AttachmentStore
from ..domain import rules
from ..domain.errors import CompletionBlocked
from ..domain.intake import Decision
from ..domain.record import Activity, Attachment, MediaItem, Note, Record, ScratchPad
from ..domain.rules import Actor, Completion, ManualRecord
from ..repository import InteractionsRepository, state_of
from .emit import commanded

Decide = Callable[[Record | None], Decision]


def short_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


class RecordCommands:
    def __init__(self, store: AggregateStore[Record], records: InteractionsRepository, attachments: AttachmentStore,
                 *, clock: Clock, new_id: Callable[[str], str] = short_id):
        self.store = store
        self.records = records
        self.attachments = attachments
        self.clock = clock
        self.new_id = new_id

    async def _change(self, interaction_id: str, decide: Decide) -> Record:
        def change(current: Stored[Record] | None) -> Change[Record]:
            return commanded(decide(state_of(current)), correlation_id=interaction_id)

        outcome = await self.store.change(interaction_id, change)
        assert outcome.stored is not None
        return outcome.stored.state

    async def create_manual(self, fields: Mapping[str, str | datetime | None], agent_id: str | None) -> Record:
        cmd = ManualRecord(self.new_id("int"), self.new_id("mi"), agent_id=agent_id, **fields)  # type: ignore[arg-type]
        now = self.clock()
        return await self._change(cmd.interaction_id, lambda _: rules.create_manual(cmd, now))

    async def add_note(self, interaction_id: str, actor: Actor, *, type: str, language: str, text: str) -> Note:
        note = Note(self.new_id("n"), type, language, text, actor.agent_id, self.clock())
        activity_id = self.new_id("act")
        await self._change(interaction_id, lambda r: rules.add_note(r, interaction_id, actor, note, activity_id))
        return note

    async def add_activity(self, interaction_id: str, actor: Actor, *, kind: str, details: Mapping[str, str],
                           at: datetime | None, media_item_id: str | None) -> Activity:
        activity = Activity(self.new_id("act"), kind, at or self.clock(), actor.agent_id, dict(details), media_item_id)
        await self._change(interaction_id, lambda r: rules.add_activity(r, interaction_id, actor, activity))
        return activity

    async def add_media_item(self, interaction_id: str, actor: Actor, *, media: str, direction: str,
                             started_at: datetime | None, ended_at: datetime | None) -> MediaItem:
        item = MediaItem(self.new_id("mi"), media, direction, started_at or self.clock(), ended_at)
        await self._change(interaction_id, lambda r: rules.add_media_item(r, interaction_id, actor, item))
        return item

    async def write_scratch_pad(self, interaction_id: str, actor: Actor, text: str) -> ScratchPad:
        pad = ScratchPad(text, self.clock(), actor.agent_id)
        await self._change(interaction_id, lambda r: rules.write_scratch_pad(r, interaction_id, actor, pad))
        return pad

    async def add_attachment(self, interaction_id: str, actor: Actor, *, name: str, media_type: str,
                             content: bytes) -> Attachment:
        """Check that the record takes it, store the content, record it; a record that refuses it meanwhile
        makes the upload go away at once."""
        attachment = Attachment(self.new_id("att"), name, media_type, len(content), "", actor.agent_id, self.clock())
        activity_id = self.new_id("act")
        rules.add_attachment(await self.records.get(interaction_id), interaction_id, actor, attachment, activity_id)
        stored = await self.attachments.put(interaction_id, attachment.attachment_id, name, media_type, content)
        attachment = Attachment(**{**vars(attachment), "sha256": stored.sha256, "file_id": stored.file_id})
        try:
            await self._change(interaction_id,
                               lambda r: rules.add_attachment(r, interaction_id, actor, attachment, activity_id))
        except BaseException:
            await self.attachments.delete(stored.file_id)
            raise
        return attachment

    async def complete(self, interaction_id: str, actor: Actor, completion: Completion) -> Record:
        now = self.clock()
        return await self._change(interaction_id, lambda r: rules.complete(r, interaction_id, actor, completion, now))

    async def complete_many(self, account_id: str, interaction_ids: Sequence[str], actor: Actor,
                            completion: Completion) -> list[Record]:
        """All or nothing: every blocker named before anything is written; then one pass through the store
        (one read, one bulk write). A record that changed between the check and the write is decided again
        and, if it no longer qualifies, named as ``changed_concurrently`` beside the records completed."""
        ids = list(dict.fromkeys(interaction_ids))
        blocking = rules.bulk_blockers(account_id, ids, await self.records.get_many(ids), actor)
        if blocking:
            raise CompletionBlocked(blocking)
        now = self.clock()

        def closing(current: Stored[Record] | None) -> Change[Record] | None:
            decision = rules.complete_in_bulk(state_of(current), account_id, actor, completion, now)
            return commanded(decision, correlation_id=decision[0].interaction_id) if decision else None

        outcomes = await self.store.change_many([Item(i, closing) for i in ids])
        raced = [{"interaction_id": i, "reason": "changed_concurrently"} for i, o in zip(ids, outcomes) if not o.changed]
        done = [o.stored.state for o in outcomes if o.changed and o.stored is not None]
        if raced:
            raise CompletionBlocked(raced, completed=[r.interaction_id for r in done])
        return done
