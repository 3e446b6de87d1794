"""The periodic job that deletes orphaned attachment uploads (see :mod:`.attachments`).

An upload is listed in ``attachment_uploads`` before its content reaches GridFS. Once the listing is older
than the grace (``attachment_orphan_grace_s``), the job reads the records the listings name (one ``$in`` on
``_id``) and looks for the file id among
their attachments. A referenced file only leaves the list; an unreferenced one is deleted with its chunks,
then leaves the list. Records are only read, never written.

Safe in every replica at once: each step is idempotent (deleting a deleted file or listing changes nothing),
and a record's attachments are never removed, so a file once seen referenced stays referenced. The grace is
what protects an upload whose record write is still in flight: it must exceed the longest upload plus record
write, since the listing is timed before the upload begins.

Files stored before the list existed are not listed; list them once (then the job settles them)::

    python -m icsuite_interactions.attachment_cleanup --list-stored
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from icsuite_chassis.logging import get_logger
from icsuite_chassis.mongo import create_mongo_client, ensure_indexes
from icsuite_chassis.settings import load_settings
from pymongo import UpdateOne

from .attachments import UPLOAD_INDEXES, AttachmentStore
from .repository import InteractionsRepository
from .settings import InteractionsSettings

_log = get_logger(__name__)

BATCH = 200  # listings per batch: one read of the list, one of the records, one delete of the listings
MAX_BATCHES_PER_ROUND = 25


class OrphanedUploadCleaner:
    def __init__(self, store: AttachmentStore, records: InteractionsRepository, *,
                 clock: Callable[[], datetime], grace_s: float, batch: int = BATCH,
                 max_batches: int = MAX_BATCHES_PER_ROUND):
        self.store = store
        self.records = records
        self.clock = clock
        self.grace = timedelta(seconds=grace_s)
        self.batch = batch
        self.max_batches = max_batches

    async def delete_orphans(self) -> int:
        """One round: batches of listings past the grace until none is left (or the round's cap); the
        number of orphaned files deleted."""
        deleted = 0
        for _ in range(self.max_batches):
            done, orphans = await self.settle_batch(self.clock() - self.grace)
            deleted += orphans
            if done < self.batch:
                break
        if deleted:
            _log.info("orphaned attachment uploads deleted", count=deleted)
        return deleted

    async def settle_batch(self, listed_before: datetime) -> tuple[int, int]:
        """Settle one batch of listings older than ``listed_before``: (listings settled, files deleted)."""
        cursor = self.store.uploads.find({"uploaded_at": {"$lt": listed_before}}).limit(self.batch)
        listings = [doc async for doc in cursor]
        if not listings:
            return 0, 0
        referenced = await self.records.referenced_files({doc["interaction_id"] for doc in listings})
        orphans = [doc["_id"] for doc in listings if doc["_id"] not in referenced]
        for file_id in orphans:
            await self.store.delete(file_id)  # the file, then its listing
        settled = [doc["_id"] for doc in listings if doc["_id"] in referenced]
        if settled:
            await self.store.uploads.delete_many({"_id": {"$in": settled}})
        return len(listings), len(orphans)


async def list_stored_uploads(store: AttachmentStore, batch: int = 500) -> dict[str, int]:
    """List every file of the bucket that names its interaction, as uploaded at its ``uploadDate`` (a listing
    that exists stays as it is). A file that names no interaction was not stored by this service: left alone."""
    counts = {"listed": 0, "unnamed": 0}
    pending: list[UpdateOne] = []
    async for doc in store.files.find({}, {"uploadDate": 1, "metadata": 1}):
        meta = doc.get("metadata") or {}
        if not meta.get("interaction_id"):
            counts["unnamed"] += 1
            continue
        listing = {"interaction_id": meta["interaction_id"], "attachment_id": meta.get("attachment_id"),
                   "uploaded_at": doc["uploadDate"]}
        pending.append(UpdateOne({"_id": doc["_id"]}, {"$setOnInsert": listing}, upsert=True))
        if len(pending) >= batch:
            counts["listed"] += await _write(store, pending)
    counts["listed"] += await _write(store, pending)
    return counts


async def _write(store: AttachmentStore, pending: list[UpdateOne]) -> int:
    if not pending:
        return 0
    result = await store.uploads.bulk_write(pending, ordered=False)
    pending.clear()
    return result.upserted_count


async def _main() -> dict[str, int]:
    settings = load_settings(InteractionsSettings)
    client = create_mongo_client(settings.mongodb_uri, app_name="interactions-attachment-cleanup")
    try:
        db = client[settings.mongodb_database]
        await ensure_indexes(db, UPLOAD_INDEXES)
        return await list_stored_uploads(AttachmentStore(db))
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m icsuite_interactions.attachment_cleanup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list-stored", action="store_true", required=True,
                        help="list the bucket's files for the cleanup job (once, after upgrading)")
    parser.parse_args(argv)
    print(json.dumps(asyncio.run(_main())))


if __name__ == "__main__":
    main()
