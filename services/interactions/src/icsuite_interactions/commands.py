"""Gateway commands that change one record: create a manual record, add a note, an activity, an attachment.

Each is one guarded write (open, not held by a bulk completion) that carries its event in the outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from icsuite_chassis.inbox import merge_updates
from icsuite_chassis.outbox import outbox_entries, outbox_push
from icsuite_contracts.cloudevents import Envelope, new_envelope
from icsuite_contracts.base import Event

from .attachments import AttachmentStore
from .domain import events
from .domain.attachments import AttachmentMeta
from .domain.ids import field_key
from .domain.record import CLOSED, OPEN, Activity, InteractionNotFound, InteractionReadOnly, Note
from .event_writes import activity_document
from .handlers import Clock, Kick
from .repository import INTERACTIONS, InteractionsRepository


def _short_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


class Commands:
    def __init__(self, repo: InteractionsRepository, attachments: AttachmentStore, *, kick: Kick, clock: Clock,
                 new_id: Callable[[str], str] = _short_id):
        self.repo = repo
        self.attachments = attachments
        self.kick = kick
        self.clock = clock
        self.new_id = new_id

    def _envelope(self, data: Event, correlation_id: str) -> Envelope:
        return new_envelope(data, source=events.SOURCE, correlation_id=correlation_id)

    async def _open_record(self, interaction_id: str) -> dict[str, Any]:
        record = await self.repo.get(interaction_id)
        if record is None:
            raise InteractionNotFound(interaction_id)
        if record.get("status") == CLOSED:
            raise InteractionReadOnly(interaction_id)
        return record

    async def _change(self, interaction_id: str, update: Mapping[str, Any], *data: Event) -> dict[str, Any]:
        envelopes = [self._envelope(d, interaction_id) for d in data]
        doc = await self.repo.change_open(interaction_id, merge_updates(update, outbox_push(envelopes)))
        self.kick(INTERACTIONS, interaction_id)
        return doc

    async def create_manual(self, fields: Mapping[str, Any], agent_id: str | None) -> dict[str, Any]:
        """A record for a contact no channel reported (a walk-in, a letter)."""
        interaction_id, now = self.new_id("int"), self.clock()
        opened_at = fields.get("opened_at") or now
        media_item_id = self.new_id("mi")
        header = {"origin": "manual", "channel": fields["channel"], "direction": fields.get("direction", "inbound"),
                  "account_id": fields.get("account_id"), "agent_id": agent_id, "opened_at": opened_at}
        opened = self._envelope(events.opened(interaction_id, header), interaction_id)
        document = {
            "_id": interaction_id, "status": OPEN, "created_at": now, **header,
            "business_agreement_id": fields.get("business_agreement_id"), "premise_id": fields.get("premise_id"),
            "agent_ids": [agent_id] if agent_id else [], "activities": [], "notes": [], "attachments": [],
            "media": {field_key(media_item_id): {"media_item_id": media_item_id, "channel": fields["channel"],
                                                 "direction": header["direction"], "started_at": opened_at}},
            "_outbox": outbox_entries([opened]),
        }
        await self.repo.insert(document)
        self.kick(INTERACTIONS, interaction_id)
        return document

    async def add_note(self, interaction_id: str, *, type: str, language: str, text: str,
                       author: str) -> Note:
        record = await self._open_record(interaction_id)
        note = Note(self.new_id("n"), type, language, text, author, self.clock())
        activity = Activity(self.new_id("act"), "note_added", note.created_at, author, {"note_id": note.note_id})
        update = {"$push": {"notes": asdict(note), "activities": activity_document(activity)},
                  "$addToSet": {"agent_ids": author}}
        await self._change(interaction_id, update, events.note_added(interaction_id, note, record.get("account_id")))
        return note

    async def add_activity(self, interaction_id: str, *, kind: str, details: Mapping[str, str],
                           at: datetime | None, media_item_id: str | None, agent_id: str) -> Activity:
        record = await self._open_record(interaction_id)
        activity = Activity(self.new_id("act"), kind, at or self.clock(), agent_id, dict(details), media_item_id)
        update = {"$push": {"activities": activity_document(activity)}, "$addToSet": {"agent_ids": agent_id}}
        await self._change(interaction_id, update,
                           events.activity_recorded(interaction_id, activity, record.get("account_id")))
        return activity

    async def add_attachment(self, interaction_id: str, *, name: str, media_type: str, content: bytes,
                             agent_id: str) -> AttachmentMeta:
        """Store the content in GridFS, then record it; if the record refuses, the content is removed."""
        record = await self._open_record(interaction_id)
        attachment_id, now = self.new_id("att"), self.clock()
        stored = await self.attachments.put(interaction_id, attachment_id, name, media_type, content)
        meta = AttachmentMeta(attachment_id, name, media_type, len(content), stored.sha256, agent_id, now)
        activity = Activity(self.new_id("act"), "attachment_added", now, agent_id,
                            {"attachment_id": attachment_id, "name": name, "media_type": media_type,
                             "size": str(meta.size), "sha256": meta.sha256})
        update = {"$push": {"attachments": {**asdict(meta), "file_id": stored.file_id},
                            "activities": activity_document(activity)},
                  "$addToSet": {"agent_ids": agent_id}}
        try:
            await self._change(interaction_id, update,
                               events.activity_recorded(interaction_id, activity, record.get("account_id")))
        except BaseException:
            await self.attachments.delete(stored.file_id)
            raise
        return meta
