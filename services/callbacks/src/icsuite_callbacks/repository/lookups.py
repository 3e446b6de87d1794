"""Reason profiles, identification results and the per-number record of open requests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from icsuite_chassis.inbox import apply_once
from icsuite_chassis.mongo import is_duplicate_key
from pymongo.asynchronous.database import AsyncDatabase

from ..domain import CallerIdentity, ReasonProfile
from .documents import profile_document, profile_from_document


class ReasonProfiles:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._col = db["reason_profiles"]

    async def get(self, reason_code: str) -> ReasonProfile | None:
        doc = await self._col.find_one({"_id": reason_code})
        return profile_from_document(doc) if doc else None

    async def all(self) -> list[ReasonProfile]:
        return [profile_from_document(doc) async for doc in self._col.find({}).sort("_id", 1)]

    async def put(self, profile: ReasonProfile) -> bool:
        """Store the profile; True when it was created."""
        doc = profile_document(profile)
        result = await self._col.replace_one({"_id": doc["_id"]}, doc, upsert=True)
        return result.upserted_id is not None

    async def seed(self, profiles: Iterable[ReasonProfile]) -> None:
        """Store the seed profiles that do not exist yet (an admin's edits are never overwritten)."""
        for profile in profiles:
            try:
                await self._col.insert_one(profile_document(profile))
            except Exception as exc:
                if not is_duplicate_key(exc):
                    raise


class Identifications:
    """What identity's caller-identified said per request id, whether it came before or after the request."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._col = db["caller_identifications"]

    async def record(self, request_id: str, identity: CallerIdentity, event_id: str, at: datetime) -> None:
        await apply_once(self._col, filter={"_id": request_id}, event_id=event_id, update={"$set": {
            "account_id": identity.account_id, "candidates": list(identity.candidates),
            "callback_number": identity.looked_up_number, "at": at}})

    async def get(self, request_id: str) -> CallerIdentity | None:
        doc = await self._col.find_one({"_id": request_id})
        if doc is None:
            return None
        return CallerIdentity(account_id=doc.get("account_id"), candidates=tuple(doc.get("candidates") or ()),
                              looked_up_number=doc.get("callback_number"))


@dataclass(frozen=True)
class SlotHolder:
    callback_id: str
    since: datetime


class OpenRequestsByNumber:
    """One document per callback number listing its open requests: the abuse guard.

    A slot is taken with one guarded write that finds room for at most ``limit`` entries, so concurrent
    requests for one number cannot overshoot; it is given back when the item closes. A slot that a crash
    left behind (item closed, or never written) is found and freed by the intake when the number looks full.
    """

    def __init__(self, db: AsyncDatabase[dict[str, Any]]):
        self._col = db["open_requests_by_number"]

    async def take(self, number: str, callback_id: str, limit: int, now: datetime) -> bool:
        try:
            await self._col.insert_one({"_id": number, "open": []})
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise
        if await self._col.find_one({"_id": number, "open.callback_id": callback_id}, {"_id": 1}):
            return True
        result = await self._col.update_one(
            {"_id": number, "open.callback_id": {"$ne": callback_id}, f"open.{limit - 1}": {"$exists": False}},
            {"$push": {"open": {"callback_id": callback_id, "since": now}}})
        return result.matched_count == 1

    async def holders(self, number: str) -> list[SlotHolder]:
        doc = await self._col.find_one({"_id": number})
        return [SlotHolder(h["callback_id"], h["since"]) for h in (doc or {}).get("open") or []]

    async def give_back(self, number: str, *callback_ids: str) -> None:
        await self._col.update_one({"_id": number}, {"$pull": {"open": {"callback_id": {"$in": list(callback_ids)}}}})
