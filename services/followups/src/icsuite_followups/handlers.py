"""The followups service's use cases: the domain decides, the repositories store, the relay publishes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from icsuite_chassis.problems import Conflict, NotFound
from icsuite_chassis.versioned import VersionConflict

from .domain import (
    ACTIVE_STATUSES,
    DATE_FIELDS,
    DEFAULT_COPY_RULES,
    DEFAULT_FOLLOWUP_TYPES,
    MAX_NOTES,
    CopyRule,
    CopyRules,
    Followup,
    FollowupEvent,
    FollowupTypeRules,
    NewFollowup,
    Note,
    NoteDraft,
    NotesHistoryFull,
    SourceSnapshot,
    append_note,
    change_followup,
    complete_copy,
    create_followup,
    filter_notes,
)
from .documents import copy_rules_from_doc, copy_rules_to_doc, type_rules_from_doc, type_rules_to_doc
from .events import envelopes_for
from .projection import InteractionProjection, ProjectedInteraction
from .repository import FOLLOWUPS, CustomizingRepository, FollowupRepository

FOLLOWUP_TYPES_CONFIG = "followup-types"
COPY_RULES_CONFIG = "copy-rules"
_SAVE_ATTEMPTS = 5
Decision = Callable[[Followup], tuple[Followup, list[FollowupEvent]]]


def utc_now() -> datetime:
    """Now, in UTC, to the millisecond (what MongoDB keeps)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


@dataclass
class FollowupService:
    followups: FollowupRepository
    customizing: CustomizingRepository
    interactions: InteractionProjection
    kick: Callable[[str, Any], None]
    clock: Callable[[], datetime] = field(default=utc_now)

    async def seed_customizing(self) -> None:
        now = self.clock()
        await self.customizing.seed(FOLLOWUP_TYPES_CONFIG, type_rules_to_doc(DEFAULT_FOLLOWUP_TYPES), now)
        await self.customizing.seed(COPY_RULES_CONFIG, copy_rules_to_doc(DEFAULT_COPY_RULES), now)

    async def config(self, name: str) -> dict[str, Any]:
        doc = await self.customizing.get(name)
        if doc is None:
            raise NotFound(f"the customizing {name!r} is not stored yet")
        return doc

    async def replace_config(self, name: str, value: Mapping[str, Any], *, by: str,
                             expected_version: int | None) -> dict[str, Any]:
        doc = await self.customizing.replace(name, value, by=by, now=self.clock(),
                                             expected_version=expected_version)
        if doc is None:
            raise Conflict(f"the customizing {name!r} changed meanwhile; read it again", slug="version-mismatch")
        return doc

    async def _rules(self) -> tuple[FollowupTypeRules, CopyRules]:
        types = await self.customizing.get(FOLLOWUP_TYPES_CONFIG)
        copying = await self.customizing.get(COPY_RULES_CONFIG)
        return (type_rules_from_doc(types["value"]) if types else DEFAULT_FOLLOWUP_TYPES,
                copy_rules_from_doc(copying["value"]) if copying else DEFAULT_COPY_RULES)

    async def _source(self, cmd: NewFollowup, given: SourceSnapshot) -> SourceSnapshot:
        """What is known about the source: the projection for interactions, the request for the rest."""
        if cmd.source_type == "interaction":
            projected = await self.interactions.snapshot(cmd.source_id)
            return projected.overlaid_on(given) if projected else given
        return given

    async def create(self, cmd: NewFollowup, *, source_data: SourceSnapshot, author: str,
                     correlation_id: str | None) -> Followup:
        type_rules, copy_rules = await self._rules()
        followup_id, now = new_id("fu"), self.clock()
        followup, events = create_followup(
            cmd, followup_id=followup_id, author=author, now=now,
            note_ids=[new_id("n") for _ in cmd.drafts()], type_rules=type_rules, copy_rules=copy_rules,
            source=await self._source(cmd, source_data))
        correlation_id = correlation_id or followup_id
        await self.followups.add(followup, envelopes_for(followup, events, correlation_id=correlation_id),
                                 correlation_id=correlation_id)
        self.kick(FOLLOWUPS, followup_id)
        if followup.awaiting_copy:
            followup = await self._await_source(followup, copy_rules.for_source(followup.source_type))
        return followup

    async def _await_source(self, followup: Followup, rule: CopyRule) -> Followup:
        """Register the follow-up for what its interaction's events will tell, and copy what they told meanwhile."""
        interaction = await self.interactions.await_copy(followup.source_id, followup.followup_id)
        completed = await self._complete_copies_of(followup.source_id, interaction, [followup.followup_id], rule=rule)
        return completed[0] if completed else followup

    async def get(self, followup_id: str) -> Followup:
        followup = await self.followups.get(followup_id)
        if followup is None:
            raise NotFound(f"no follow-up {followup_id!r}")
        return followup

    async def change(self, followup_id: str, changes: Mapping[str, Any], *, by: str) -> Followup:
        """Apply a partial update; retried on a concurrent change, which the version guard detects."""
        try:
            changed = await self._save_decision(
                followup_id, lambda before: change_followup(before, changes, by=by, now=self.clock()))
        except VersionConflict as exc:
            raise Conflict("the follow-up keeps changing concurrently; try again", slug="concurrent-change") from exc
        if changed is None:
            raise NotFound(f"no follow-up {followup_id!r}")
        return changed

    async def _save_decision(self, followup_id: str, decide: Decision, *,
                             causation_id: str | None = None) -> Followup | None:
        """Store what ``decide`` makes of the follow-up, with its events, in one version-guarded write.

        Decided again on the current state when a concurrent change came between; None if there is no
        such follow-up; nothing is written (or emitted) when ``decide`` reports no event.
        """
        for _ in range(_SAVE_ATTEMPTS):
            before = await self.followups.get(followup_id)
            if before is None:
                return None
            after, events = decide(before)
            if not events:
                return after
            correlation_id = await self.followups.correlation_of(followup_id)
            envelopes = envelopes_for(after, events, correlation_id=correlation_id, causation_id=causation_id)
            if await self.followups.save_changes(before, after, envelopes):
                self.kick(FOLLOWUPS, followup_id)
                return after
        raise VersionConflict(f"the follow-up {followup_id!r} keeps changing concurrently")

    async def complete_copies(self, interaction_id: str, *, cause_event_id: str) -> None:
        """Copy into the follow-ups that await it what the projection of the interaction knows now.

        Run after each interaction event that can tell an account; safe to run again for a redelivered
        event (what is copied is no longer awaited, so a second run writes and emits nothing).
        """
        interaction = await self.interactions.read(interaction_id)
        if interaction is None or not interaction.awaiting_followups:
            return
        _, copy_rules = await self._rules()
        await self._complete_copies_of(interaction_id, interaction, interaction.awaiting_followups,
                                       rule=copy_rules.for_source("interaction"), causation_id=cause_event_id)

    async def _complete_copies_of(self, interaction_id: str, interaction: ProjectedInteraction,
                                  followup_ids: Sequence[str], *, rule: CopyRule,
                                  causation_id: str | None = None) -> list[Followup]:
        """Complete each follow-up; those that await nothing more (or whose source closed) leave the list."""
        done, completed = [], []
        for followup_id in followup_ids:
            followup = await self._save_decision(
                followup_id, lambda f: complete_copy(f, rule, interaction.snapshot, now=self.clock()),
                causation_id=causation_id)
            if followup is not None:
                completed.append(followup)
            if followup is None or not followup.awaiting_copy or interaction.closed:
                done.append(followup_id)
        if done:
            await self.interactions.stop_awaiting(interaction_id, done)
        return completed

    async def add_note(self, followup_id: str, draft: NoteDraft, *, author: str) -> Note:
        followup = await self.get(followup_id)
        note, event = append_note(followup, draft, note_id=new_id("n"), author=author, now=self.clock())
        correlation_id = await self.followups.correlation_of(followup_id)
        if not await self.followups.append_note(followup_id, note,
                                                envelopes_for(followup, [event], correlation_id=correlation_id)):
            await self.get(followup_id)  # 404 if it vanished, else the history filled up meanwhile
            raise NotesHistoryFull(MAX_NOTES)
        self.kick(FOLLOWUPS, followup_id)
        return note

    async def for_account(self, account_id: str, *, status: str | None, cursor: str | None,
                          limit: int) -> tuple[list[Followup], str | None]:
        """An account's follow-ups, newest first; ``planned`` means open or in process and scheduled."""
        match: dict[str, Any] = {"account_id": account_id}
        if status == "planned":
            match["status"] = {"$in": list(ACTIVE_STATUSES)}
            match["$or"] = [{name: {"$ne": None}} for name in DATE_FIELDS]
        elif status is not None:
            match["status"] = status
        return await self.followups.page(match, cursor=cursor, limit=limit)

    async def for_source(self, source_type: str, source_id: str, *, cursor: str | None,
                         limit: int) -> tuple[list[Followup], str | None]:
        return await self.followups.page({"source.type": source_type, "source.id": source_id},
                                         cursor=cursor, limit=limit)

    async def notes(self, followup_id: str, *, type: str | None, author: str | None, language: str | None,
                    after: int, limit: int) -> tuple[list[tuple[int, Note]], bool]:
        """The notes history in the order it was written, filtered; positions for the next page."""
        followup = await self.get(followup_id)
        chosen = filter_notes(followup.notes, type=type, author=author, language=language)
        position = {id(n): i for i, n in enumerate(followup.notes)}
        page = [(position[id(n)], n) for n in chosen if position[id(n)] > after]
        return page[:limit], len(page) > limit
