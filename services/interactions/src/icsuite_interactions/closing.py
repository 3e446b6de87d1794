"""Closing records: one by an agent, several of one account at once, and contacts that served themselves.

Bulk completion is all-or-nothing without transactions (the MongoDB-wire server has none):

1. check every record (exists, open, of the account, not held by another completion): 409 naming each
   record that blocks;
2. store an intent (``completions``: token, ids, outcome, state ``marking``);
3. mark each record with the token (guarded: open, same account, unmarked). A marked record refuses
   every gateway change (409) and the self-service closer skips it. If a record changed between the
   check and its mark, the marks placed so far are removed and the answer is 409 naming it;
4. move the intent to ``committed`` (guarded: still ``marking``): from here on the completion happens;
5. close each marked record (guarded by the token), its ``closed`` event in the same write; drop the intent.

A crash before 4 leaves marks that the recovery job removes once the intent is older than
``completion_stale_s``; a crash after 4 is rolled forward by the same job. Event ids derive from the
token, so a roll-forward never emits a record's ``closed`` event twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from icsuite_chassis.inbox import merge_updates
from icsuite_chassis.outbox import outbox_push
from icsuite_chassis.versioned import VERSION_FIELD
from icsuite_contracts.cloudevents import derive_event_id, new_envelope
from pymongo.asynchronous.collection import AsyncCollection

from .domain import events
from .domain.completion import Blocker, Completion, agents_after_close, bulk_blockers, closing_fields
from .domain.record import (
    CLOSED,
    SELF_SERVICE,
    InteractionBusy,
    InteractionNotFound,
    InteractionReadOnly,
    SelfServiceDecision,
    contact_ended_at,
    decide_self_service,
)
from .handlers import Clock, Kick
from .repository import INTERACTIONS, InteractionsRepository


class CompletionBlocked(Exception):
    """A bulk completion cannot happen; ``blockers`` names every record in the way."""

    def __init__(self, blockers: Sequence[Blocker]):
        super().__init__(", ".join(f"{b.interaction_id} ({b.reason})" for b in blockers))
        self.blockers = list(blockers)


class Closer:
    def __init__(self, repo: InteractionsRepository, completions: AsyncCollection[dict[str, Any]], *,
                 kick: Kick, clock: Clock, grace_s: float, stale_s: float,
                 new_token: Callable[[], str] = lambda: uuid.uuid4().hex):
        self.repo = repo
        self.completions = completions
        self.kick = kick
        self.clock = clock
        self.grace = timedelta(seconds=grace_s)
        self.stale = timedelta(seconds=stale_s)
        self.new_token = new_token

    def _close_update(self, record: dict[str, Any], completion: Completion, event_id: str,
                      self_service: bool = False) -> dict[str, Any]:
        fields = closing_fields(record, completion, self_service=self_service)
        closed = events.closed(record, completion, fields, agents_after_close(record, completion.closed_by))
        envelope = new_envelope(closed, source=events.SOURCE, id=event_id,
                                correlation_id=record.get("contact_id") or record["_id"])
        update = merge_updates({"$set": fields}, outbox_push([envelope]))
        if completion.closed_by:
            update["$addToSet"] = {"agent_ids": completion.closed_by}
        return update

    async def complete(self, interaction_id: str, *, outcome: str, result: str | None,
                       reason_code: str | None, agent_id: str) -> dict[str, Any]:
        record = await self.repo.get(interaction_id)
        if record is None:
            raise InteractionNotFound(interaction_id)
        if record.get("status") == CLOSED:
            raise InteractionReadOnly(interaction_id)
        completion = Completion(outcome, result, reason_code, self.clock(), agent_id)
        update = self._close_update(record, completion, str(uuid.uuid4()))
        doc = await self.repo.change_open(interaction_id, update)
        self.kick(INTERACTIONS, interaction_id)
        return doc

    async def complete_many(self, account_id: str, interaction_ids: Sequence[str], *, outcome: str,
                            result: str | None, reason_code: str | None, agent_id: str) -> list[str]:
        ids = list(dict.fromkeys(interaction_ids))
        blockers = bulk_blockers(account_id, ids, await self.repo.get_many(ids))
        if blockers:
            raise CompletionBlocked(blockers)
        token, now = self.new_token(), self.clock()
        intent = {"_id": token, "account_id": account_id, "interaction_ids": ids, "outcome": outcome,
                  "result": result, "reason_code": reason_code, "closed_by": agent_id, "closed_at": now,
                  "state": "marking", "created_at": now}
        await self.completions.insert_one(intent)
        marked = await self._mark_all(intent, now + self.stale)
        if len(marked) < len(ids) or not await self._commit(token):
            await self._abort(intent)
            fresh = bulk_blockers(account_id, ids, await self.repo.get_many(ids))
            missed = ids[len(marked)] if len(marked) < len(ids) else ids[0]
            raise CompletionBlocked(fresh or [Blocker(missed, "changed_concurrently")])
        await self._close_all(intent)
        return ids

    async def _mark_all(self, intent: dict[str, Any], until: datetime) -> list[str]:
        marked: list[str] = []
        for interaction_id in intent["interaction_ids"]:
            if not await self.repo.mark(interaction_id, intent["account_id"], intent["_id"], until):
                break
            marked.append(interaction_id)
        return marked

    async def _commit(self, token: str) -> bool:
        result = await self.completions.update_one({"_id": token, "state": "marking"},
                                                   {"$set": {"state": "committed"}})
        return result.modified_count == 1

    async def _abort(self, intent: dict[str, Any]) -> None:
        await self.completions.update_one({"_id": intent["_id"], "state": "marking"}, {"$set": {"state": "aborted"}})
        await self.repo.unmark(intent["interaction_ids"], intent["_id"])
        await self.completions.delete_one({"_id": intent["_id"], "state": "aborted"})

    async def _close_all(self, intent: dict[str, Any]) -> None:
        completion = Completion(intent["outcome"], intent["result"], intent["reason_code"], intent["closed_at"],
                                intent["closed_by"])
        for interaction_id in intent["interaction_ids"]:
            record = await self.repo.get(interaction_id)
            if record is None or record.get("status") == CLOSED:
                continue
            update = self._close_update(record, completion, derive_event_id(intent["_id"], interaction_id))
            update.setdefault("$set", {})["_completion"] = None
            if await self.repo.close_marked(interaction_id, intent["_id"], update):
                self.kick(INTERACTIONS, interaction_id)
        await self.completions.delete_one({"_id": intent["_id"]})

    async def recover_completions(self) -> int:
        """Roll committed completions forward and uncommitted ones back, once they are stale."""
        stale = self.completions.find({"created_at": {"$lt": self.clock() - self.stale}})
        count = 0
        async for intent in stale:
            if intent["state"] == "committed":
                await self._close_all(intent)
            else:
                await self._abort(intent)
            count += 1
        return count

    async def close_self_service(self) -> int:
        """Close every ended contact whose grace has passed and that no agent handled.

        One round works on all due reminders at once: one read of their records, the reminders to wait
        longer moved in one bulk write and those done dropped in one delete; only the closes, each
        a compare-and-set on the version of the record read, are one write per record. A reminder is dropped only after its
        record was closed (or needs no closing), so a crash mid-round leaves it for the next round.
        """
        now, closed = self.clock(), 0
        due = await self.repo.due_self_service(now)
        if not due:
            return 0
        records = await self.repo.get_records(due)
        wait: list[str] = []
        done: list[str] = []
        for interaction_id in due:
            record = records.get(interaction_id)
            decision = SelfServiceDecision.WAIT if record is None else decide_self_service(record)
            if decision is SelfServiceDecision.WAIT:
                wait.append(interaction_id)
                continue
            if decision is SelfServiceDecision.CLOSE:
                assert record is not None
                completion = Completion(SELF_SERVICE, None, None, contact_ended_at(record) or now, None)
                update = self._close_update(record, completion, derive_event_id(interaction_id, "self-service"),
                                            self_service=True)
                if not await self.repo.close_self_service(interaction_id, update, record.get(VERSION_FIELD)):
                    continue  # something changed meanwhile: decide again on the next round
                self.kick(INTERACTIONS, interaction_id)
                closed += 1
            done.append(interaction_id)
        await self.repo.schedule_self_service_many(wait, now + self.grace)
        await self.repo.drop_self_service_many(done)
        return closed
