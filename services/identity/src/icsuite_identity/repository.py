"""MongoDB adapters: replicated master data with version guards, lookup documents, accounts created
here, business object contexts and caller lookups.

Every hot read is by ``_id`` (the local MongoDB-wire server uses no other index for equality queries).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from icsuite_chassis.inbox import Applied, apply_once, merge_updates
from icsuite_chassis.mongo import IndexSpec, is_duplicate_key
from icsuite_chassis.outbox import OUTBOX_FIELD, outbox_entries, outbox_push
from icsuite_contracts.cloudevents import Envelope
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError
from pymongo.asynchronous.database import AsyncDatabase

from .domain.accounts import AccountRecord
from .domain.context import AutomaticIdentification, Confirmation

Doc = dict[str, Any]
LOOKUP_CAP = 1000
ACCOUNTS, AGREEMENTS, PREMISES, LOOKUPS = "accounts", "business_agreements", "premises", "lookups"
CONTEXTS, CALLER_LOOKUPS = "contexts", "caller_lookups"
OUTBOX_COLLECTIONS = (ACCOUNTS, CONTEXTS, CALLER_LOOKUPS)
INDEXES: tuple[IndexSpec, ...] = ()  # every lookup is by _id, which is always unique and indexed


class LookupIndex:
    """Lookup documents ``{_id: key, ids: [...]}``: the ids of the records that have ``key``."""

    def __init__(self, collection: AsyncCollection[Doc]):
        self._col = collection

    async def ids(self, key: str) -> list[str]:
        doc = await self._col.find_one({"_id": key})
        return list((doc or {}).get("ids", []))[:LOOKUP_CAP]

    async def ids_of_each(self, keys: Sequence[str]) -> dict[str, list[str]]:
        found = {key: [] for key in keys}
        async for doc in self._col.find({"_id": {"$in": list(keys)}}):
            found[doc["_id"]] = list(doc.get("ids", []))[:LOOKUP_CAP]
        return found

    async def add(self, record_id: str, keys: Iterable[str]) -> None:
        await asyncio.gather(*(self._add_one(record_id, key) for key in keys))

    async def _add_one(self, record_id: str, key: str) -> None:
        for attempt in range(3):  # two first inserts of the same key race: the loser updates
            try:
                await self._col.update_one({"_id": key}, {"$addToSet": {"ids": record_id}}, upsert=True)
                return
            except Exception as exc:
                if not is_duplicate_key(exc) or attempt == 2:
                    raise

    async def remove(self, record_id: str, keys: Iterable[str]) -> None:
        await asyncio.gather(*(self._col.update_one({"_id": k}, {"$pull": {"ids": record_id}}) for k in keys))


class ReplicaStore:
    """Full snapshots from the source system: an older ``source_version`` never overwrites a newer one."""

    def __init__(self, collection: AsyncCollection[Doc], lookups: LookupIndex):
        self.col = collection
        self._lookups = lookups

    async def get(self, record_id: str) -> Doc | None:
        return await self.col.find_one({"_id": record_id}, {"_applied": 0, "_outbox": 0})

    async def get_many(self, ids: Sequence[str]) -> dict[str, Doc]:
        if not ids:
            return {}
        cursor = self.col.find({"_id": {"$in": list(ids)}}, {"_applied": 0, "_outbox": 0})
        return {doc["_id"]: doc async for doc in cursor}

    async def apply_snapshot(self, record_id: str, fields: Mapping[str, Any], keys: Sequence[str], *,
                             source_version: int, event_id: str) -> Applied:
        before = await self.col.find_one({"_id": record_id}, {"_keys": 1})
        result = await apply_once(
            self.col, filter={"_id": record_id, "source_version": {"$lt": source_version}},
            update={"$set": {**fields, "source_version": source_version, "_keys": list(keys)}},
            event_id=event_id)
        if result is Applied.APPLIED:
            await self._lookups.add(record_id, keys)
            await self._lookups.remove(record_id, set((before or {}).get("_keys", [])) - set(keys))
        else:  # older or already applied; make sure a crash after the write left no key missing
            current = await self.col.find_one({"_id": record_id}, {"_keys": 1})
            await self._lookups.add(record_id, (current or {}).get("_keys", []))
        return result

    async def find_by_key(self, key: str) -> list[Doc]:
        """The records that have ``key`` now (stale lookup entries are skipped)."""
        ids = await self._lookups.ids(key)
        docs = await self.get_many(ids)
        return [docs[i] for i in ids if i in docs and key in docs[i].get("_keys", [])]


def account_document(record: AccountRecord) -> Doc:
    return {"kind": record.kind, "name": record.name, "phones": list(record.phones),
            "phones_e164": list(record.phones_e164), "emails": list(record.emails),
            "address": dict(record.address) if record.address else None, "flags": list(record.flags),
            "status": record.status}


class AccountStore(ReplicaStore):
    async def create(self, record: AccountRecord, *, created_by: str, now: datetime,
                     publish: Sequence[Envelope]) -> None:
        doc = {"_id": record.account_id, **account_document(record), "source_version": record.source_version,
               "_keys": record.keys(), "created_by": created_by, "created_at": now, "_applied": []}
        doc[OUTBOX_FIELD] = outbox_entries(publish)
        await self.col.insert_one(doc)
        await self._lookups.add(record.account_id, doc["_keys"])


class CreationClaims:
    """One document per duplicate key of an account created here (``_id`` = the key: unique), so that
    of two creations of the same customer at the same moment only one gets past the duplicate check."""

    def __init__(self, collection: AsyncCollection[Doc]):
        self.col = collection

    async def claim(self, keys: Sequence[str], account_id: str, now: datetime, *,
                    exists: Callable[[str], Awaitable[bool]], stale_s: float = 30.0) -> str | None:
        """Claim every key for ``account_id``; on a key held by another account, give back what was
        claimed and answer that account's id. A claim older than ``stale_s`` whose account does not
        exist was left by a creation that died before storing it: it is taken over."""
        taken: list[str] = []
        for key in keys:
            if not await self._take(key, account_id, now, exists, stale_s):
                holder = await self.col.find_one({"_id": key})
                await self.release(taken, account_id)
                return str(holder["account_id"]) if holder else account_id
            taken.append(key)
        return None

    async def _take(self, key: str, account_id: str, now: datetime,
                    exists: Callable[[str], Awaitable[bool]], stale_s: float) -> bool:
        for _ in range(2):
            try:
                await self.col.insert_one({"_id": key, "account_id": account_id, "at": now})
                return True
            except DuplicateKeyError:
                holder = await self.col.find_one({"_id": key})
                if holder is None:
                    continue
                left_behind = holder["at"] < now - timedelta(seconds=stale_s)
                if not left_behind or await exists(str(holder["account_id"])):
                    return False
                await self.col.delete_one({"_id": key, "account_id": holder["account_id"], "at": holder["at"]})
        return False

    async def release(self, keys: Sequence[str], account_id: str) -> None:
        for key in keys:
            await self.col.delete_one({"_id": key, "account_id": account_id})


class ContextStore:
    """One document per contact: the automatic identification, the confirmation and its history."""

    def __init__(self, collection: AsyncCollection[Doc]):
        self.col = collection

    async def get(self, contact_id: str) -> Doc | None:
        return await self.col.find_one({"_id": contact_id}, {"_applied": 0, "_outbox": 0})

    async def record_automatic(self, contact_id: str, found: AutomaticIdentification, contact: Mapping[str, Any],
                               *, event_id: str, publish: Sequence[Envelope]) -> Applied:
        """Store the automatic result; its event is emitted only while no agent has confirmed yet."""
        update = {"$set": {"automatic": found.as_document(), "contact": dict(contact), "updated_at": found.at},
                  "$setOnInsert": {"history": [], "created_at": found.at}}
        result = await apply_once(self.col, filter={"_id": contact_id, "confirmed": None}, update=update,
                                  event_id=event_id, publish=publish)
        if result is Applied.DUPLICATE:  # applied before, or confirmed already: then store it silently
            result = await apply_once(self.col, filter={"_id": contact_id}, update=update, event_id=event_id,
                                      upsert=False)
        return result

    async def confirm(self, contact_id: str, confirmation: Confirmation, publish: Sequence[Envelope]) -> Doc:
        entry = confirmation.as_document()
        update = merge_updates({"$set": {"confirmed": entry, "updated_at": confirmation.confirmed_at},
                                "$push": {"history": entry},
                                "$setOnInsert": {"created_at": confirmation.confirmed_at}}, outbox_push(publish))
        for attempt in range(2):  # two first confirmations of one contact race: the loser updates
            try:
                doc = await self.col.find_one_and_update({"_id": contact_id}, update, upsert=True,
                                                         projection={"_applied": 0, "_outbox": 0},
                                                         return_document=ReturnDocument.AFTER)
                return doc  # type: ignore[return-value]
            except Exception as exc:
                if not is_duplicate_key(exc) or attempt == 1:
                    raise
        raise AssertionError("unreachable")


class CallerLookupStore:
    """One document per callback request that identity looked up, carrying its event's outbox."""

    def __init__(self, collection: AsyncCollection[Doc]):
        self.col = collection

    async def record(self, request_id: str, fields: Mapping[str, Any], *, event_id: str,
                     publish: Sequence[Envelope]) -> Applied:
        return await apply_once(self.col, filter={"_id": request_id}, update={"$setOnInsert": dict(fields)},
                                event_id=event_id, publish=publish)


class Repositories:
    def __init__(self, db: AsyncDatabase[Doc]):
        self.lookups = LookupIndex(db[LOOKUPS])
        self.accounts = AccountStore(db[ACCOUNTS], self.lookups)
        self.agreements = ReplicaStore(db[AGREEMENTS], self.lookups)
        self.premises = ReplicaStore(db[PREMISES], self.lookups)
        self.contexts = ContextStore(db[CONTEXTS])
        self.caller_lookups = CallerLookupStore(db[CALLER_LOOKUPS])
        self.creation_claims = CreationClaims(db["creation_claims"])
