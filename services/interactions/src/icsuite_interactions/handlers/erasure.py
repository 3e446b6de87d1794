"""Interactions' part of an account's erasure: every record of the account, and its attachments' content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from icsuite_chassis.store import AggregateStore, Item

from ..attachments import AttachmentStore
from ..domain.erasure import add_counts, decide_erase, personal_data
from ..domain.record import Record

SERVICE = "interactions"
MAX_RECORDS = 100_000


def of_account(account_id: str) -> dict[str, Any]:
    return {"$or": [{"account_id": account_id}, {"account_hint": account_id}]}


@dataclass(frozen=True)
class RecordErasure:
    store: AggregateStore[Record]
    attachments: AttachmentStore

    async def survey(self, account_id: str) -> dict[str, int]:
        total: dict[str, int] = {}
        for stored in await self.store.find(of_account(account_id), limit=MAX_RECORDS):
            total = add_counts(total, personal_data(stored.state))
        return dict(sorted(total.items()))

    async def erase(self, account_id: str) -> None:
        """Erase the records (one write each), then delete their attachments' content (a file already
        deleted is skipped), so a crash in between leaves nothing a redelivery would not finish."""
        records = await self.store.find(of_account(account_id), limit=MAX_RECORDS)
        await self.store.change_many([Item(r.id, decide_erase) for r in records])
        for stored in records:
            for attachment in stored.state.attachments:
                if attachment.file_id is not None:
                    await self.attachments.delete(attachment.file_id)
